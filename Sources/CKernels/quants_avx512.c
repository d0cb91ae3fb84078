// The AVX2 quantized kernels compiled a third time for CPUs with AVX-512 VNNI: vpdpbusd for the
// int8 dot products (as in quants_vnni.c), and the 32 vector registers AVX-512VL gives 256-bit code
// let the 32-value block formats run 2 weight rows × 4 tokens per tile in prompt batches (each
// unpacked weight block and each activation block used twice as often). Same results as the AVX2
// table. dispatch.c picks this table when the CPU has it.
#define SK_QUANT_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"
#define SK_QUANT_FILL sk_fill_avx512_table
#define SK_QUANT_VNNI512 1
#define SK_B32_ROWS 2
#include "quants_avx2.c"
