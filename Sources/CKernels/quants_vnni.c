// The AVX2 quantized kernels compiled a second time for CPUs with AVX-VNNI: the int8 dot products
// of the 32-value block formats become one vpdpbusd instead of vpmaddubsw + vpmaddwd. The integer
// sums are the same (no int16 saturation occurs in either form: weights are at most 63 or |127|),
// so results are bit-identical to the AVX2 table. dispatch.c picks this table when the CPU has it.
#define SK_QUANT_TARGET "avx2,fma,f16c,avxvnni"
#define SK_QUANT_FILL sk_fill_vnni_table
#define SK_QUANT_VNNI 1
#include "quants_avx2.c"
