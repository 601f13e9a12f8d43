// SPDX-License-Identifier: GPL-2.0
/*
 * Counts system calls per (syscall number, comm) on raw_syscalls:sys_enter. Preferred: tp_btf,
 * which reads the comm straight from the current task (two loads, no helper call); then the
 * raw tracepoint (args[1] is the syscall number) and the classic tracepoint.
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

struct hm_sc_key {
	u32 nr;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hm_sc_key);
	__type(value, u64);
} hm_sc_counts SEC(".maps");

/* Raw tracepoint context: the tracepoint's arguments (regs, id) as u64. */
struct hm_raw_tp_args {
	u64 args[2];
};

/* raw_syscalls/sys_enter format: common header, then `long id`. */
struct hm_sys_enter {
	struct trace_entry ent;
	long id;
};

static __always_inline int add(struct hm_sc_key *key)
{
	u64 one = 1, *c = bpf_map_lookup_elem(&hm_sc_counts, key);

	if (c)
		*c += 1;
	else
		bpf_map_update_elem(&hm_sc_counts, key, &one, BPF_NOEXIST);
	return 0;
}

static __always_inline int count(long id)
{
	struct hm_sc_key key = {};

	if (id < 0)
		return 0;
	key.nr = (u32)id;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	return add(&key);
}

/* The comm's 16 bytes as the kernel holds them: NUL-padded (__set_task_comm pads), and where
 * they were not, userspace merges keys by the name before the NUL. */
SEC("tp_btf/sys_enter")
int hm_sc_btf(u64 *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct hm_sc_key key = {};
	long id = (long)ctx[1];

	if (id < 0)
		return 0;
	key.nr = (u32)id;
	__builtin_memcpy(key.comm, task->comm, sizeof(key.comm));
	return add(&key);
}

SEC("raw_tracepoint/sys_enter")
int hm_sc_raw(struct hm_raw_tp_args *ctx)
{
	return count((long)ctx->args[1]);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int hm_sc_tp(struct hm_sys_enter *ctx)
{
	return count(ctx->id);
}

char LICENSE[] SEC("license") = "GPL";
