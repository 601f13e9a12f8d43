// SPDX-License-Identifier: GPL-2.0
/*
 * Run-queue latency: time from a task becoming runnable (wakeup, or preempted while running) to
 * it being switched in, as a log2 histogram of microseconds in a per-CPU array (one counter per
 * slot and CPU, no atomics; userspace sums the CPUs or shows them one by one), and the total
 * latency per CPU for an exact histogram sum.
 *
 * Three variants of the same logic, one per attach kind; the loader picks the first this kernel
 * attaches: tp_btf (typed, direct reads), raw_tp (arguments only, no BTF), tracepoint (record
 * fields, no BTF). All hooks must use the same kind: they key tasks differently (task storage,
 * task address, pid).
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hm_log2.h"

#define MAX_ENTRIES 10240
#define MAX_SLOTS 27
#define TASK_RUNNING 0
/* sched_switch's tracepoint reports a preempted task's state as TASK_REPORT_MAX (0x100). */
#define TASK_REPORT_MASK 0xff

/* Enqueue time by pid (tracepoint) or task address (raw_tp). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, u64);
	__type(value, u64);
} hm_rq_start SEC(".maps");

/* Whether raw sched_switch has prev_state as its 4th argument (Linux >= 5.18); set by userspace. */
const volatile u32 hm_rq_switch_has_state = 1;

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

/* key: a pid or a task address; 0 (the idle task's pid) is never tracked. */
static __always_inline void enqueue(u64 key)
{
	u64 ts;

	if (!key)
		return;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&hm_rq_start, &key, &ts, BPF_ANY);
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

static __always_inline void dequeue(u64 key)
{
	u64 *tsp, start;

	if (!key)
		return;
	tsp = bpf_map_lookup_elem(&hm_rq_start, &key);
	if (!tsp)
		return;
	start = *tsp;
	bpf_map_delete_elem(&hm_rq_start, &key);
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

static __always_inline void on_switch(u64 prev, bool prev_runnable, u64 next)
{
	if (prev_runnable)
		enqueue(prev);
	dequeue(next);
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

/*
 * raw_tp runs where the kernel's BTF is hidden or absent, so it reads no kernel struct (a CO-RE
 * read would use this file's field offsets, not the kernel's): tasks are keyed by address, the
 * previous task's pid (to leave out the idle task) is the current one's, since sched_switch
 * fires before the switch, and whether it stays runnable comes from the arguments:
 * (preempt, prev, next[, prev_state since 5.18]).
 */
SEC("raw_tp/sched_wakeup")
int hm_rq_wake_raw(u64 *ctx)
{
	enqueue(ctx[0]);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int hm_rq_wnew_raw(u64 *ctx)
{
	enqueue(ctx[0]);
	return 0;
}

SEC("raw_tp/sched_switch")
int hm_rq_sw_raw(u64 *ctx)
{
	bool runnable = (bool)ctx[0] || (hm_rq_switch_has_state && (u32)ctx[3] == TASK_RUNNING);
	u64 prev = (u32)bpf_get_current_pid_tgid() ? ctx[1] : 0;

	on_switch(prev, runnable, ctx[2]);
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
