#include "textflag.h"

// func prefetchLines(p unsafe.Pointer, n int)
//
// Four lines a step (a call usually asks for eight): one line a step cost
// six instructions a line, 3% of a packet's on the benchmark file.
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ	p+0(FP), AX
	MOVQ	n+8(FP), CX
loop4:
	CMPQ	CX, $256
	JLT	tail
	PREFETCHT0	(AX)
	PREFETCHT0	64(AX)
	PREFETCHT0	128(AX)
	PREFETCHT0	192(AX)
	ADDQ	$256, AX
	SUBQ	$256, CX
	JMP	loop4
tail:
	CMPQ	CX, $0
	JLE	done
	PREFETCHT0	(AX)
	ADDQ	$64, AX
	SUBQ	$64, CX
	JMP	tail
done:
	RET
