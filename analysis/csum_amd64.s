#include "textflag.h"

// func checksumAVX2(b []byte, acc uint64) uint16
//
// checksumAVX2 is internetChecksum whole: acc (the initial sum, as a
// little-endian sum: see internetChecksum) plus the one's complement sum
// of b's little-endian 16-bit words, folded to 16 bits, swapped to
// network order and complemented. It was a kernel of 32-bit words called
// from Go, which took the first sum's fold, the last 0-7 bytes and the
// final fold itself: 97 instructions a packet around the kernel on the
// benchmark file, where a TCP header without payload never reached it.
//
// From 64 bytes on, it adds 128 bytes a step, then 32, each 32-bit word
// widened to a 64-bit lane (VPMOVZXDQ), so no lane can overflow before
// 2^32 words have been added to it; the sum of the 32-bit words is
// congruent to that of the 16-bit words modulo 0xffff, all the fold
// keeps. The rest (and a run under 64 bytes) is added 8 bytes at a time
// with the carry (DECQ leaves it alone), then 4, 2 and 1: an end-around
// carry keeps the sum congruent modulo 0xffff (2^64 - 1 is a multiple of
// it) and zero only when every byte and acc are.
//
// Every instruction here must have a VEX (AVX2) encoding: the assembler
// takes, say, VPSRLQ with a memory operand, which only AVX-512 has, and
// writes an EVEX instruction that runs on this machine and its tests but
// not on an AVX2 processor without AVX-512 (valgrind, which decodes no
// EVEX, stopped on it).
TEXT ·checksumAVX2(SB), NOSPLIT, $0-34
	MOVQ	b_base+0(FP), SI
	MOVQ	b_len+8(FP), CX
	MOVQ	acc+24(FP), AX
	CMPQ	CX, $64
	JB	words
	VPXOR	Y0, Y0, Y0
	VPXOR	Y1, Y1, Y1
	VPXOR	Y2, Y2, Y2
	VPXOR	Y3, Y3, Y3
	CMPQ	CX, $128
	JB	loop32

loop128:
	VPMOVZXDQ	0(SI), Y4
	VPMOVZXDQ	16(SI), Y5
	VPMOVZXDQ	32(SI), Y6
	VPMOVZXDQ	48(SI), Y7
	VPADDQ	Y4, Y0, Y0
	VPADDQ	Y5, Y1, Y1
	VPADDQ	Y6, Y2, Y2
	VPADDQ	Y7, Y3, Y3
	VPMOVZXDQ	64(SI), Y4
	VPMOVZXDQ	80(SI), Y5
	VPMOVZXDQ	96(SI), Y6
	VPMOVZXDQ	112(SI), Y7
	VPADDQ	Y4, Y0, Y0
	VPADDQ	Y5, Y1, Y1
	VPADDQ	Y6, Y2, Y2
	VPADDQ	Y7, Y3, Y3
	ADDQ	$128, SI
	SUBQ	$128, CX
	CMPQ	CX, $128
	JAE	loop128
	CMPQ	CX, $32
	JB	reduce

loop32:
	VPMOVZXDQ	0(SI), Y4
	VPMOVZXDQ	16(SI), Y5
	VPADDQ	Y4, Y0, Y0
	VPADDQ	Y5, Y1, Y1
	ADDQ	$32, SI
	SUBQ	$32, CX
	CMPQ	CX, $32
	JAE	loop32

reduce:
	VPADDQ	Y1, Y0, Y0
	VPADDQ	Y3, Y2, Y2
	VPADDQ	Y2, Y0, Y0
	VEXTRACTI128	$1, Y0, X1
	VPADDQ	X1, X0, X0
	VMOVQ	X0, DX
	VPEXTRQ	$1, X0, BX
	VZEROUPPER
	ADDQ	DX, AX
	ADCQ	BX, AX
	ADCQ	$0, AX

words:
	MOVQ	CX, DX
	SHRQ	$3, DX
	JZ	tail
	XORL	BX, BX // clears the carry
loop8:
	ADCQ	0(SI), AX
	LEAQ	8(SI), SI
	DECQ	DX
	JNZ	loop8
	ADCQ	$0, AX

tail:
	TESTQ	$4, CX
	JZ	tail2
	MOVL	0(SI), DX
	ADDQ	DX, AX
	ADCQ	$0, AX
	ADDQ	$4, SI
tail2:
	TESTQ	$2, CX
	JZ	tail1
	MOVWQZX	0(SI), DX
	ADDQ	DX, AX
	ADCQ	$0, AX
	ADDQ	$2, SI
tail1:
	TESTQ	$1, CX
	JZ	fold
	MOVBQZX	0(SI), DX
	ADDQ	DX, AX
	ADCQ	$0, AX

fold:
	// 64 bits to 32, then 16, each with its end-around carry.
	MOVQ	AX, DX
	SHRQ	$32, DX
	ADDL	DX, AX
	ADCL	$0, AX
	MOVL	AX, DX
	SHRL	$16, DX
	ADDW	DX, AX
	ADCW	$0, AX
	ROLW	$8, AX
	NOTL	AX
	MOVW	AX, ret+32(FP)
	RET
