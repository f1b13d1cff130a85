// Packed 4 x 8-bit integer dot products (SPV_KHR_integer_dot_product): one
// instruction multiplies the four bytes of one word with the four bytes of
// another and adds the products, where GLSL would need four conversions and
// four multiply-adds. Debian's glslang has no GLSL builtin for them, so they
// are declared through GL_EXT_spirv_intrinsics as the SPIR-V instructions they
// are. The device needs shaderIntegerDotProduct (core in Vulkan 1.3, else
// VK_KHR_shader_integer_dot_product); the runtime reads the capabilities the
// module declares and refuses a device without it.
#extension GL_EXT_spirv_intrinsics : require

// SPIR-V capabilities DotProduct (6019) and DotProductInput4x8BitPacked (6018);
// the last operand is PackedVectorFormat4x8Bit (0).
// OpSDot (4450): both words hold signed bytes.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int dotSigned4x8(uint a, uint b, spirv_literal int packed_vector_format);
// OpSUDot (4452): `a` holds signed bytes, `b` unsigned ones.
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4452)
int dotSignedUnsigned4x8(uint a, uint b, spirv_literal int packed_vector_format);

int dotS8(uint a, uint b) { return dotSigned4x8(a, b, 0); }
int dotS8U8(uint signed_bytes, uint unsigned_bytes) { return dotSignedUnsigned4x8(signed_bytes, unsigned_bytes, 0); }
