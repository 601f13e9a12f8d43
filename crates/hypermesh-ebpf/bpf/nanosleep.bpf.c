// SPDX-License-Identifier: GPL-2.0
/*
 * Counts clock_nanosleep calls in a per-CPU counter. One program per attach kind, so the loader's
 * fentry -> kprobe -> syscall tracepoint fallback chain can be exercised on any kernel.
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} hm_ns_count SEC(".maps");

static __always_inline int count(void)
{
	u32 zero = 0;
	u64 *c = bpf_map_lookup_elem(&hm_ns_count, &zero);

	if (c)
		*c += 1;
	return 0;
}

SEC("fentry/__x64_sys_clock_nanosleep")
int hm_ns_fentry(void *ctx)
{
	return count();
}

SEC("kprobe/__x64_sys_clock_nanosleep")
int hm_ns_kprobe(void *ctx)
{
	return count();
}

SEC("tracepoint/syscalls/sys_enter_clock_nanosleep")
int hm_ns_tp(void *ctx)
{
	return count();
}

char LICENSE[] SEC("license") = "GPL";
