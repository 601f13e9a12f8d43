// SPDX-License-Identifier: GPL-2.0
/*
 * Counts successful execs per new comm on sched_process_exec (fired after the new image is
 * installed, so the current comm is the new program's). tp_btf is preferred, then raw_tp, then
 * the classic tracepoint.
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

struct hm_ex_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hm_ex_key);
	__type(value, u64);
} hm_ex_counts SEC(".maps");

static __always_inline int count(void)
{
	struct hm_ex_key key = {};
	u64 one = 1, *c;

	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	c = bpf_map_lookup_elem(&hm_ex_counts, &key);
	if (c)
		*c += 1;
	else
		bpf_map_update_elem(&hm_ex_counts, &key, &one, BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int hm_ex_btf(void *ctx)
{
	return count();
}

SEC("raw_tracepoint/sched_process_exec")
int hm_ex_raw(void *ctx)
{
	return count();
}

SEC("tracepoint/sched/sched_process_exec")
int hm_ex_tp(void *ctx)
{
	return count();
}

char LICENSE[] SEC("license") = "GPL";
