#!/usr/bin/env python3
"""Writes tests/data/tokenizer_corpus.json: the strings every tokenizer reference
(tools/reference/tokenize.mjs, tools/make_tokenizer_reference_hf.py) and our own
tokenizer (tests/unit/tokenizer_test.cc) encode and compare.

Deterministic: a fixed seed and fixed text, so re-running gives the same file.
Each entry is {"category": ..., "text": ...}. Every text is valid UTF-8 (JSON
cannot carry anything else); invalid UTF-8 is exercised by the unit test itself.

    python3 tools/make_tokenizer_corpus.py [--out tests/data/tokenizer_corpus.json]
"""
import argparse
import json
import random
import unicodedata
from pathlib import Path

SEED = 20250301

PROSE = [
    "Hello, world!",
    "hello world",
    "Hello",
    " Hello",
    "Hello ",
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
    "Don't stop; won't stop - can't stop!",
    "e.g. i.e. etc. Mr. Dr. St. U.S.A.",
    "3.14159265358979323846264338327950288419716939937510",
    "1,234,567.89 + 0.001 = 1234567.891",
    "2024-03-01T12:34:56Z",
    "user@example.com visited https://example.org/path?q=1&lang=en#frag",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "/usr/local/lib/python3.11/site-packages/",
    "supercalifragilisticexpialidocious",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abababababababababababababababab",
    "'quoted' \"double\" `back` \u201ccurly\u201d \u2018single\u2019",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 co\u00f6perate \u00fcber stra\u00dfe",
    "\u00a1Hola! \u00bfQu\u00e9 tal? \u00c7a va tr\u00e8s bien.",
    "Gr\u00fc\u00dfe aus M\u00fcnchen: \u00c4\u00d6\u00dc\u00e4\u00f6\u00fc\u00df",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u041a\u0430\u043a \u0434\u0435\u043b\u0430?",
    "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01",
    "Xin ch\u00e0o th\u1ebf gi\u1edbi",
    "\u00bd \u00be \u2153 \u2154 \u00b2 \u00b3 \u2070 \u2211 \u222b \u221a \u221e \u2260 \u2264 \u2265 \u00b1 \u00d7 \u00f7",
    "E = mc^2; \u2207\u00b7E = \u03c1/\u03b5\u2080; \u2200x\u2208\u211d: x\u00b2 \u2265 0",
    "$100 \u20ac200 \u00a3300 \u00a5400 \u20b9500 \u20bf0.01",
    "The End.",
]

CODE = [
    "def add(a, b):\n    return a + b\n",
    "import numpy as np\n\nx = np.zeros((3, 4), dtype=np.float32)\nprint(x.shape)\n",
    "class Foo:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n        self.items.append(x)\n",
    "for i in range(10):\n\tif i % 2 == 0:\n\t\tprint(i)\n",
    "#include <iostream>\n\nint main() {\n  std::cout << \"Hello\" << std::endl;\n  return 0;\n}\n",
    "template <typename T>\nstd::vector<T> reversed(const std::vector<T>& v) {\n    return {v.rbegin(), v.rend()};\n}\n",
    "auto lambda = [&](int x) -> int { return x * x; };",
    "if (a != b && c <= d || !e) { x->y = z[0]; }",
    "{\"name\": \"unicorn\", \"version\": 1, \"tags\": [\"a\", \"b\"], \"nested\": {\"k\": null, \"t\": true}}",
    "{\n  \"key\": \"value\",\n  \"list\": [1, 2, 3],\n  \"empty\": {}\n}",
    "SELECT id, name FROM users WHERE age > 21 ORDER BY name DESC LIMIT 10;",
    "#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do echo \"$f\"; done\n",
    "<html><body><div class=\"x\"><b>bold</b> <i>it</i> <s>struck</s></div></body></html>",
    "<table><tr><th>a</th><td>1</td></tr></table>",
    "<h1>Title</h1><p>para</p><code>x = 1</code><blockquote>q</blockquote>",
    "fn main() { let v: Vec<u8> = vec![1, 2, 3]; println!(\"{:?}\", v); }",
    "const f = async (x) => { await g(x); return `${x}!`; };",
    "x <<= 2; y >>= 3; z ^= ~w; a ||= b; c ??= d;",
    "// comment\n/* block\n   comment */\n",
    "    indented four\n        indented eight\n\tindented tab\n",
    "regex: ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$",
    "\\begin{equation} \\int_0^\\infty e^{-x^2} dx = \\frac{\\sqrt{\\pi}}{2} \\end{equation}",
    "0x1F 0b1010 0o777 1e-9 6.02e23 -0.0 NaN inf",
    "a_b_c __init__ __main__ snake_case camelCase PascalCase kebab-case SCREAMING_CASE",
    "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-old\n+new\n",
]

WHITESPACE = [
    "", " ", "  ", "   ", " " * 8, " " * 31, " " * 32, " " * 33, " " * 100,
    "\t", "\t\t", "\t" * 31, "\t" * 40,
    "\n", "\n\n", "\n\n\n", "\n" * 31, "\n" * 32, "\n" * 70,
    "\r\n", "\r\n\r\n", "\r", "\r\r\n",
    " \n", "\n ", " \t \n \t ", "\t \t \t", "  \n  \n  ", "\n\t\n\t\n",
    "a b", "a  b", "a   b", "a\tb", "a\nb", "a\n\nb", "a \n b",
    "  leading spaces", "trailing spaces   ", "  both  ", "\tleading tab", "trailing newline\n",
    "word " * 20, "line\n" * 10, "\u00a0nbsp\u00a0", "\u3000ideographic\u3000space",
    "\u2002en\u2003em\u2009thin\u200ahair", "\u2581already\u2581metaspace\u2581", "\u2581\u2581\u2581",
    " \u2581 \u2581", "\v\f",
]

CJK = [
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01",
    "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8\u3002",
    "\u673a\u5668\u5b66\u4e60\u662f\u4eba\u5de5\u667a\u80fd\u7684\u4e00\u4e2a\u5206\u652f\u3002",
    "\u7e41\u9ad4\u4e2d\u6587\u8207\u7c21\u4f53\u4e2d\u6587",
    "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c",
    "\u79c1\u306f\u65e5\u672c\u8a9e\u3092\u52c9\u5f37\u3057\u3066\u3044\u307e\u3059\u3002\u30ab\u30bf\u30ab\u30ca\u3068\u3072\u3089\u304c\u306a\u3002",
    "\uff8a\uff9d\uff76\uff78\uff76\uff80\uff76\uff85 \uff21\uff22\uff23\uff11\uff12\uff13",
    "\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8 \ucc98\ub9ac \ud14c\uc2a4\ud2b8\uc785\ub2c8\ub2e4.",
    "\u4e2d\u6587 mixed with English \u548c\u6570\u5b57 123",
    "\u3400\u4db5\U00020000\U0002a6d6 rare CJK extensions",
    "\u3010\u62ec\u53f7\u3011\u300c\u5f15\u7528\u300d\u300e\u53cc\u5f15\u300f\uff08\u5168\u89d2\uff09",
    "\u2f00\u2f01\u2ff0\u2ff1 radicals and ideographic description",
    "\u6f22\u5b57\u304b\u306a\u4ea4\u3058\u308a\u6587",
]

RTL = [
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u0627\u0644\u0644\u063a\u0629 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u062c\u0645\u064a\u0644\u0629 \u062c\u062f\u0627\u064b.",
    "\u0628\u0650\u0633\u0652\u0645\u0650 \u0627\u0644\u0644\u0651\u064e\u0647\u0650",
    "\u0661\u0662\u0663 \u0664\u0665\u0666 Arabic-Indic digits",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u05e2\u05b4\u05d1\u05b0\u05e8\u05b4\u05d9\u05ea \u05e2\u05dd \u05e0\u05d9\u05e7\u05d5\u05d3",
    "English then \u05e2\u05d1\u05e8\u05d9\u05ea then English",
    "\u202bRTL embedding\u202c and \u200fRLM\u200e LRM",
    "\u0641\u0627\u0631\u0633\u06cc: \u0633\u0644\u0627\u0645 \u062f\u0646\u06cc\u0627",
    "\u0627\u0631\u062f\u0648: \u06c1\u06cc\u0644\u0648 \u062f\u0646\u06cc\u0627",
    "\ufdfa \ufdfb ligatures",
]

EMOJI = [
    "\U0001f600", "\U0001f984", "\U0001f984\U0001f984\U0001f984",
    "I \u2764\ufe0f NY", "\u2764", "\u2764\ufe0f",
    "\U0001f44d\U0001f3fb\U0001f44d\U0001f3fc\U0001f44d\U0001f3fd\U0001f44d\U0001f3fe\U0001f44d\U0001f3ff",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f469\U0001f3fd\u200d\U0001f4bb",
    "\U0001f3f3\ufe0f\u200d\U0001f308 \U0001f3f4\u200d\u2620\ufe0f",
    "\U0001f1fa\U0001f1f8\U0001f1ef\U0001f1f5\U0001f1e9\U0001f1ea",
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "1\ufe0f\u20e3 #\ufe0f\u20e3 *\ufe0f\u20e3",
    "\U0001f9d1\u200d\U0001f91d\u200d\U0001f9d1",
    "Party time! \U0001f389\U0001f38a\U0001f973 Let's go \U0001f680",
    "\U0001fae0\U0001fae1\U0001fae8 newer emoji",
    "\u263a \u263a\ufe0f \u263a\ufe0e",
    "\U0001f9ff\U0001f9fe\U0001f9fd\U0001f9fc",
    "text\U0001f600text\U0001f600",
    "\U0001f468\U0001f3ff\u200d\U0001f9b0",
]

COMBINING_BASE = [
    "caf\u00e9", "r\u00e9sum\u00e9", "na\u00efve", "\u00c5ngstr\u00f6m", "Vi\u1ec7t Nam", "\u1e9e\u00df",
    "\u01c4\u01c5\u01c6 digraphs", "\u0101\u0113\u012b\u014d\u016b", "\u00f1and\u00fa", "\uac00\ud7a3",
]

CONTROL = [
    "\x00", "a\x00b", "\x01\x02\x03\x04\x05\x06\x07\x08", "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a",
    "\x1b[31mred\x1b[0m", "\x7f", "\u0080\u0085\u009f", "zero\u200bwidth\u200cjoin\u200d",
    "\ufeffBOM at start", "line\u2028sep\u2029para", "\ufffd replacement char", "\ue000\uf8ff private use",
    "\U0010fffd\U000fffff plane 16", "\ufff9\ufffa\ufffb annotations", "tab\x0bvtab\x0cformfeed",
    "\u00ad soft hyphen", "\u2066isolate\u2069",
]

SPECIAL = [
    "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "[multimodal]",
    "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>",
    "<unused0>", "<unused12>", "<unused99>", "<unused6241>", "<unused6242>",
    "<start_of_turn>user\nHello!<end_of_turn>\n<start_of_turn>model\n",
    "<bos><start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>",
    "<bos><bos><eos><eos>", "<<bos>>", "<bos", "bos>", "<start_of", "<start_of_turn", "start_of_turn>",
    "<end_of_turn\n", "< bos >", "<BOS>", "<start_of_turn><end_of_turn>",
    "text<eos>text", " <eos> ", "<unused12><unused12>", "<unused1234", "<unused12a>",
    "<s>not llama</s>", "<table><tr><td>cell</td></tr></table>", "<b>b</b><strong>s</strong>",
    "\u2581\u2581literal metaspace", "<start_of_image><image_soft_token><end_of_image>",
    "\n\n<start_of_turn>\n\n\n", "\t\t<eos>\t\t",
]

NOT_IN_VOCAB = [
    "\U00020000", "\U00013000 hieroglyph", "\U0001d518\U0001d52b\U0001d526\U0001d520 fraktur", "\ua66e", "\U00010380",
    "\u16a0\u16a2\u16a6 runes", "\u2135 aleph", "\U00010ffd\U0010fffd", "mix\U00020000ed\U00013000in",
]

FRAGMENTS = [
    "the", " ", "  ", "\n", "\t", "Hello", "\u4e16\u754c", "\U0001f600", "<eos>", "<start_of_turn>", "def ", "()",
    "\u00e9", "e\u0301", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd", "123", "{", "}", "\"", "\\",
    "\U00020000", "\x00", "\u2581", "<", ">", "unused", "\u200d", "\U0001f3fd", "\u3002", "ing", "tion", ".",
]


def long_prose(rng, size):
    words = ("alpha beta gamma delta epsilon language model token merge vocabulary unicorn compile runtime "
             "kernel memory bandwidth roofline decode prefill the a of and to in is that for it with as").split()
    out = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(5, 15))).capitalize() + rng.choice([". ", "! ", "? ", ".\n"])
        out.append(sentence)
        length += len(sentence)
    return "".join(out)[:size]


def long_mixed(rng, size):
    pool = PROSE + CODE + CJK + RTL + EMOJI + SPECIAL
    out = ""
    while len(out.encode()) < size:
        out += rng.choice(pool) + rng.choice([" ", "\n", "", "\t", "  "])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "tests/data/tokenizer_corpus.json"))
    args = parser.parse_args()
    rng = random.Random(SEED)

    entries = []

    def add(category, texts):
        for text in texts:
            entries.append({"category": category, "text": text})

    add("ascii_prose", PROSE)
    add("code", CODE)
    add("whitespace", WHITESPACE)
    add("cjk", CJK)
    add("rtl", RTL)
    add("emoji", EMOJI)
    # The same words in composed (NFC) and decomposed (NFD) form: a tokenizer without
    # a Unicode normaliser must keep them apart.
    for text in COMBINING_BASE:
        add("combining_nfc", [unicodedata.normalize("NFC", text)])
        add("combining_nfd", [unicodedata.normalize("NFD", text)])
    add("combining", ["e\u0301\u0301\u0301", "a\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dalgo"])
    add("control", CONTROL)
    add("special_tokens", SPECIAL)
    add("byte_fallback", NOT_IN_VOCAB)
    add("random_mix", ["".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(3, 40))) for _ in range(25)])

    add("long", [
        long_prose(rng, 10_000),
        long_mixed(rng, 10_000),
        "a" * 10_000,
        " " * 5_000 + "x" + "\n" * 5_000,
        ("\u4f60\u597d\u4e16\u754c" * 900)[:3400],
        ("for (int i = 0; i < n; ++i) {\n    sum += values[i] * weights[i];\n}\n" * 150)[:10_000],
        "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(4_000)),
    ])

    for entry in entries:
        entry["text"].encode("utf-8")  # every text must be valid UTF-8 (no lone surrogates)
    document = {
        "generator": "tools/make_tokenizer_corpus.py (seed %d)" % SEED,
        "strings": entries,
    }
    Path(args.out).write_text(json.dumps(document, ensure_ascii=True, indent=0) + "\n")
    print("wrote %d strings to %s" % (len(entries), args.out))


if __name__ == "__main__":
    main()
