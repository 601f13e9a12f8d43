// SPDX-License-Identifier: GPL-2.0
/*
 * Counts successful execs per (real uid, new comm). Preferred hook: fentry, then kprobe, on
 * finalize_exec(), which the binary loaders call once the new image is committed (the comm and
 * credentials are already the new program's). Kernels that allow neither (no kprobes, fentry
 * denied by lockdown) fall back to the sched_process_exec tracepoint, fired at the same point:
 * tp_btf, then raw_tp, then the classic tracepoint.
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

struct hm_ex_key {
	u32 uid;
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

	key.uid = (u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	c = bpf_map_lookup_elem(&hm_ex_counts, &key);
	if (c)
		*c += 1;
	else
		bpf_map_update_elem(&hm_ex_counts, &key, &one, BPF_NOEXIST);
	return 0;
}

SEC("fentry/finalize_exec")
int hm_ex_fentry(void *ctx)
{
	return count();
}

SEC("kprobe/finalize_exec")
int hm_ex_kprobe(void *ctx)
{
	return count();
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
