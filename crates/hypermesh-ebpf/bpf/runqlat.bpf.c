// SPDX-License-Identifier: GPL-2.0
/*
 * Run-queue latency: time from a task becoming runnable (wakeup, or preempted while running) to
 * it being switched in, as a log2 histogram of microseconds in a per-CPU array (one counter per
 * slot and CPU, no atomics; userspace sums the CPUs or shows them one by one), and the total
 * latency per CPU for an exact histogram sum.
 *
 * Three variants of the same logic, one per attach kind; the loader picks the first this kernel
 * attaches: tp_btf (typed, direct reads), raw_tp (probe reads), tracepoint (record fields, no BTF).
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "hm_log2.h"

#define MAX_ENTRIES 10240
#define MAX_SLOTS 27
#define TASK_RUNNING 0
/* sched_switch's tracepoint reports a preempted task's state as TASK_REPORT_MAX (0x100). */
#define TASK_REPORT_MASK 0xff

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, u32);
	__type(value, u64);
} hm_rq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, u32);
	__type(value, u64);
} hm_rq_hist SEC(".maps");

/* Total latency in nanoseconds per CPU: the exact sum of a Prometheus histogram. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} hm_rq_sum SEC(".maps");

/* tp_btf gets trusted task pointers: the start time lives in task-local storage there,
 * cheaper than a hash lookup, and a consumed entry is zeroed instead of deleted. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u64);
} hm_rq_tstart SEC(".maps");

static __always_inline void enqueue(u32 pid)
{
	u64 ts;

	if (!pid)
		return;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&hm_rq_start, &pid, &ts, BPF_ANY);
}

static __always_inline void record(u64 start)
{
	s64 delta = (s64)(bpf_ktime_get_ns() - start);
	u64 *count, *sum;
	u32 slot, zero = 0;

	if (delta < 0)
		return;
	sum = bpf_map_lookup_elem(&hm_rq_sum, &zero);
	if (sum)
		*sum += (u64)delta;
	/* Slot k counts latencies in [2^k, 2^(k+1)) us, slot 0 also 0 us, like runqlat. */
	slot = log2_u64((u64)delta / 1000U);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	count = bpf_map_lookup_elem(&hm_rq_hist, &slot);
	if (count)
		*count += 1;
}

static __always_inline void dequeue(u32 pid)
{
	u64 *tsp, start;

	if (!pid)
		return;
	tsp = bpf_map_lookup_elem(&hm_rq_start, &pid);
	if (!tsp)
		return;
	start = *tsp;
	bpf_map_delete_elem(&hm_rq_start, &pid);
	record(start);
}

static __always_inline void enqueue_task(struct task_struct *p)
{
	u64 *ts;

	if (!p->pid)
		return;
	ts = bpf_task_storage_get(&hm_rq_tstart, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ts)
		*ts = bpf_ktime_get_ns();
}

static __always_inline void dequeue_task(struct task_struct *p)
{
	u64 *ts, start;

	if (!p->pid)
		return;
	ts = bpf_task_storage_get(&hm_rq_tstart, p, 0, 0);
	if (!ts || !*ts)
		return;
	start = *ts;
	*ts = 0;
	record(start);
}

static __always_inline void on_switch(u32 prev_pid, bool prev_runnable, u32 next_pid)
{
	if (prev_runnable)
		enqueue(prev_pid);
	dequeue(next_pid);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(hm_rq_wake_btf, struct task_struct *p)
{
	enqueue_task(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(hm_rq_wnew_btf, struct task_struct *p)
{
	enqueue_task(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hm_rq_sw_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (prev->__state == TASK_RUNNING)
		enqueue_task(prev);
	dequeue_task(next);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(hm_rq_wake_raw, struct task_struct *p)
{
	enqueue(BPF_CORE_READ(p, pid));
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(hm_rq_wnew_raw, struct task_struct *p)
{
	enqueue(BPF_CORE_READ(p, pid));
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(hm_rq_sw_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	on_switch(BPF_CORE_READ(prev, pid), BPF_CORE_READ(prev, __state) == TASK_RUNNING,
		  BPF_CORE_READ(next, pid));
	return 0;
}

SEC("tracepoint/sched/sched_wakeup")
int hm_rq_wake_tp(struct trace_event_raw_sched_wakeup_template *ctx)
{
	enqueue(ctx->pid);
	return 0;
}

SEC("tracepoint/sched/sched_wakeup_new")
int hm_rq_wnew_tp(struct trace_event_raw_sched_wakeup_template *ctx)
{
	enqueue(ctx->pid);
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int hm_rq_sw_tp(struct trace_event_raw_sched_switch *ctx)
{
	on_switch(ctx->prev_pid, (ctx->prev_state & TASK_REPORT_MASK) == TASK_RUNNING, ctx->next_pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
