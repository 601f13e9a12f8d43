// SPDX-License-Identifier: GPL-2.0
/*
 * Block I/O latency (like libbpf-tools biolatency): time from block_rq_issue to
 * block_rq_complete, as a log2 histogram of microseconds per (disk, operation).
 *
 * Since Linux 5.11 block_rq_issue takes (struct request *rq) (before: (q, rq)); the tp_btf and
 * raw_tp variants read that first argument, and userspace only offers them on kernels >= 5.11.
 * block_rq_complete is (rq, error, nr_bytes) on every 6.x kernel. The classic tracepoint variant
 * has no request pointer: it pairs issue and completion by (dev, sector) and takes the
 * operation from rwbs. dev and sector keep their offsets (8, 16) on every 6.x kernel, but rwbs
 * moved when Linux 6.8 added ioprio (offset 32 before, 34 after): userspace reads its offset
 * from events/block/block_rq_complete/format and sets hm_bio_done_rwbs_off before loading.
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "hm_log2.h"

#define MAX_SLOTS 27
#define REQ_OP_MASK 0xff
#define MINORBITS 20

struct hm_bio_key {
	u32 dev; /* kernel dev_t: major << 20 | minor */
	u32 op;  /* REQ_OP_* */
};

struct hm_bio_hist {
	u64 slots[MAX_SLOTS];
	u64 sum_ns; /* exact total latency, for metrics */
};

/* Issue time of each in-flight request, by request address (tp_btf, raw_tp). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} hm_bio_start SEC(".maps");

/* The classic tracepoint has no request pointer: issue time by (dev, sector). */
struct hm_bio_sector_key {
	u64 dev, sector;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct hm_bio_sector_key);
	__type(value, u64);
} hm_bio_start_sector SEC(".maps");

/* Per CPU, so that counting needs no atomic operations; userspace sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hm_bio_key);
	__type(value, struct hm_bio_hist);
} hm_bio_hist SEC(".maps");

static __always_inline void issued(void *start_map, void *key)
{
	u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(start_map, key, &ts, BPF_ANY);
}

static __always_inline void completed(void *start_map, void *skey, u32 dev, u32 op)
{
	struct hm_bio_key key = { .dev = dev, .op = op };
	static const struct hm_bio_hist zero;
	struct hm_bio_hist *h;
	u64 *start = bpf_map_lookup_elem(start_map, skey);
	s64 delta;
	u32 slot;

	if (!start)
		return; /* issued before we attached */
	delta = (s64)(bpf_ktime_get_ns() - *start);
	bpf_map_delete_elem(start_map, skey);
	if (delta < 0)
		return;
	h = bpf_map_lookup_elem(&hm_bio_hist, &key);
	if (!h) {
		bpf_map_update_elem(&hm_bio_hist, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hm_bio_hist, &key);
		if (!h)
			return;
	}
	slot = log2_u64((u64)delta / 1000U);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	h->slots[slot] += 1;
	h->sum_ns += (u64)delta;
}

/* struct bpf_raw_tracepoint_args. */
struct hm_raw_args {
	u64 args[1]; /* block_rq_*: args[0] is the request */
};

static __always_inline u32 dev_of(int major, int minor)
{
	return ((u32)major << MINORBITS) | (u32)minor;
}

/* raw_tp: the request is a plain number to the verifier, so each field is a probe read. */
static __always_inline void rq_completed(struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);
	u32 dev = dev_of(BPF_CORE_READ(disk, major), BPF_CORE_READ(disk, first_minor));

	u64 addr = (u64)rq;

	completed(&hm_bio_start, &addr, dev, BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK);
}

SEC("tp_btf/block_rq_issue")
int hm_bio_issue_btf(u64 *ctx)
{
	u64 addr = ctx[0];

	issued(&hm_bio_start, &addr);
	return 0;
}

/* tp_btf: the verifier knows ctx[0] is a struct request *, so the fields are plain loads. */
SEC("tp_btf/block_rq_complete")
int hm_bio_done_btf(u64 *ctx)
{
	struct request *rq = (struct request *)ctx[0];
	struct gendisk *disk = rq->q->disk;
	u64 addr = ctx[0];

	completed(&hm_bio_start, &addr, dev_of(disk->major, disk->first_minor), rq->cmd_flags & REQ_OP_MASK);
	return 0;
}

SEC("raw_tracepoint/block_rq_issue")
int hm_bio_issue_raw(struct hm_raw_args *ctx)
{
	u64 addr = ctx->args[0];

	issued(&hm_bio_start, &addr);
	return 0;
}

SEC("raw_tracepoint/block_rq_complete")
int hm_bio_done_raw(struct hm_raw_args *ctx)
{
	rq_completed((struct request *)ctx->args[0]);
	return 0;
}

/* The start of events/block/block_rq_{issue,complete}/format, the same on every 6.x kernel. */
struct hm_rq_tp {
	struct trace_entry ent;
	u32 dev;
	u64 sector;
};

/* Offset of rwbs in block_rq_complete's record (set by userspace from the format file). */
const volatile u32 hm_bio_done_rwbs_off = 34;

/* Words of the record copied to the stack, where rwbs may be read at any offset (a tracepoint
 * context itself only allows loads at offsets fixed in the instruction). 40 bytes: the kernel
 * refuses to attach a program that reads past the record (44 bytes on 6.1, 48 on 6.18). */
#define HM_REC_WORDS 5

/* The REQ_OP_* of an rwbs string ("W", "FWS", "R", "D", "DE", "F", "N"...). */
static __always_inline u32 rwbs_op(const char *rwbs)
{
	int flush = 0;

	for (int i = 0; i < 4; i++) {
		switch (rwbs[i]) {
		case 'W': return 1;
		case 'R': return 0;
		case 'D': return 3;
		case 'F': flush = 1; break;
		case 0: return flush ? 2 : REQ_OP_MASK;
		}
	}
	return flush ? 2 : REQ_OP_MASK;
}

SEC("tracepoint/block/block_rq_issue")
int hm_bio_issue_tp(struct hm_rq_tp *ctx)
{
	struct hm_bio_sector_key skey = { .dev = ctx->dev, .sector = ctx->sector };

	issued(&hm_bio_start_sector, &skey);
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int hm_bio_done_tp(struct hm_rq_tp *ctx)
{
	struct hm_bio_sector_key skey = { .dev = ctx->dev, .sector = ctx->sector };
	u64 rec[HM_REC_WORDS] = {};
	u32 off = hm_bio_done_rwbs_off;

	/* Word 0 (the common fields) is not readable from a tracepoint program, nor needed. */
	for (int i = 1; i < HM_REC_WORDS; i++)
		rec[i] = ((u64 *)ctx)[i];
	if (off > sizeof(rec) - 4)
		return 0;
	completed(&hm_bio_start_sector, &skey, ctx->dev, rwbs_op((const char *)rec + off));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
