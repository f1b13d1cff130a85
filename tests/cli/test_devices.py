"""unicorn-exec's device flags: --list-devices, --check-device, --device, --allow-software-gpu.

CI machines have only Mesa llvmpipe, a CPU-type Vulkan device: it must be listed
as "cpu", refused without --allow-software-gpu (exit 3, naming it) and used with
it. "No Vulkan driver at all" is simulated by pointing the loader at a driver
manifest that does not exist.
"""
import json
import os
import unittest

import harness


def without_drivers():
    """An environment in which the Vulkan loader finds no driver (both spellings of the variable)."""
    env = dict(os.environ)
    env["VK_DRIVER_FILES"] = "/nonexistent/unicorn-no-driver.json"
    env["VK_ICD_FILENAMES"] = "/nonexistent/unicorn-no-driver.json"
    return env


class DeviceFlagsTest(harness.CliTestCase):
    def exec_(self, *args, env=None):
        return harness.run([harness.EXEC, *args], env=env)

    def list_devices(self, *extra):
        result = self.exec_("--list-devices", "--json", *extra)
        self.assertEqual(result.returncode, harness.EXIT_OK, result.stderr)
        return json.loads(result.stdout)["devices"]

    def software_devices(self):
        return [d for d in self.list_devices() if d["type"] == "cpu"]

    def test_list_devices_json_names_llvmpipe_as_cpu(self):
        devices = self.list_devices()
        self.assertGreater(len(devices), 0)
        self.assertEqual([d["index"] for d in devices], list(range(len(devices))))
        llvmpipe = [d for d in devices if d["name"].startswith("llvmpipe")]
        self.assertEqual(len(llvmpipe), 1, devices)
        device = llvmpipe[0]
        self.assertEqual(device["type"], "cpu")
        self.assertFalse(device["usable"])
        self.assertIn("--allow-software-gpu", device["why_unusable"])
        self.assertRegex(device["api_version"], r"^1\.[1-9]\.\d+$")
        self.assertGreater(device["subgroup_size"], 0)
        self.assertEqual(device["capabilities"]["subgroup_size"], device["subgroup_size"])
        self.assertGreaterEqual(device["capabilities"]["max_storage_buffer_range"], 1 << 27)

    def test_list_devices_with_the_flag_marks_software_usable(self):
        for device in self.list_devices("--allow-software-gpu"):
            if device["type"] == "cpu" and not device["missing"]:
                self.assertTrue(device["usable"], device)
                self.assertEqual(device["why_unusable"], "")

    def test_list_devices_text_has_one_line_per_device(self):
        result = self.exec_("--list-devices")
        self.assertEqual(result.returncode, harness.EXIT_OK, result.stderr)
        lines = result.stdout.strip().splitlines()
        self.assertEqual(len(lines), len(self.list_devices()))
        self.assertRegex(lines[0], r"^0: .+ \[(integrated|discrete|virtual|cpu|other), Vulkan 1\.\d+\.\d+, subgroup \d+\]: ")

    def test_software_only_machine_refuses_without_the_flag(self):
        devices = self.list_devices()
        if any(d["type"] != "cpu" for d in devices):
            self.skipTest("this machine has a GPU")
        result = self.exec_("--check-device")
        self.assertCleanFailure(result, harness.EXIT_DEVICE, "no GPU found", devices[0]["name"],
                                "--allow-software-gpu")

    def test_software_device_is_used_with_the_flag(self):
        software = self.software_devices()
        if not software:
            self.skipTest("no software Vulkan device here")
        result = self.exec_("--check-device", "--device", str(software[0]["index"]), "--allow-software-gpu", "--json")
        self.assertEqual(result.returncode, harness.EXIT_OK, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["index"], software[0]["index"])
        self.assertEqual(report["capabilities"]["name"], software[0]["name"])
        self.assertEqual(report["capabilities"]["type"], "cpu")

    def test_device_by_name_is_case_insensitive(self):
        software = self.software_devices()
        if not software:
            self.skipTest("no software Vulkan device here")
        fragment = software[0]["name"].split(" ")[0].upper()
        result = self.exec_("--check-device", "--device", fragment, "--allow-software-gpu")
        self.assertEqual(result.returncode, harness.EXIT_OK, result.stderr)
        self.assertIn(software[0]["name"], result.stdout)

    def test_bad_device_spec_names_the_available_devices(self):
        first = self.list_devices()[0]
        for spec in ["99", "no-such-gpu-anywhere"]:
            with self.subTest(spec=spec):
                result = self.exec_("--check-device", "--device", spec, "--allow-software-gpu")
                self.assertCleanFailure(result, harness.EXIT_DEVICE, spec, f"available: 0 '{first['name']}'")

    def test_no_vulkan_driver_is_exit_3(self):
        for args in [["--check-device", "--allow-software-gpu"], ["--list-devices"]]:
            with self.subTest(args=args):
                result = self.exec_(*args, env=without_drivers())
                self.assertCleanFailure(result, harness.EXIT_DEVICE, "no Vulkan driver/device")

    def test_device_modes_need_no_bundle_but_bundle_modes_do(self):
        self.assertCleanFailure(self.exec_("--inspect"), harness.EXIT_USAGE, "BUNDLE")
        self.assertCleanFailure(self.exec_("--list-devices", "--inspect"), harness.EXIT_USAGE)

    def test_help_names_the_device_flags(self):
        result = self.exec_("--help")
        self.assertEqual(result.returncode, harness.EXIT_OK)
        for flag in ["--list-devices", "--check-device", "--device", "--allow-software-gpu"]:
            self.assertIn(flag, result.stdout)


if __name__ == "__main__":
    unittest.main()
