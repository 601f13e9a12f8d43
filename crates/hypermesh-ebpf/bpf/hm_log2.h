/* SPDX-License-Identifier: GPL-2.0 */
/* floor(log2(v)) without loops (the verifier needs bounded code), 0 for v <= 1: the slot of a
 * log2 histogram, shared by runqlat and biolatency. Include after vmlinux-min.h. */
#ifndef HM_LOG2_H
#define HM_LOG2_H

static __always_inline u32 log2_u64(u64 v)
{
	u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

#endif
