// SPDX-License-Identifier: GPL-2.0
/*
 * TCP events counted per remote port (retransmits, resets sent/received) and TCP state
 * transitions (old, new). Layouts follow the tracepoint formats under
 * events/{tcp,sock}/.../format (Linux 6.x).
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum hm_tcp_event { HM_RETRANSMIT = 0, HM_SEND_RESET = 1, HM_RECEIVE_RESET = 2 };

struct hm_tcp_key {
	u16 event;
	u16 rport;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hm_tcp_key);
	__type(value, u64);
} hm_tcp_events SEC(".maps");

/* TCP states are 1..12; slot old * 16 + new. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, u32);
	__type(value, u64);
} hm_tcp_states SEC(".maps");

struct hm_retransmit {
	struct trace_entry ent;
	const void *skbaddr, *skaddr;
	int state;
	u16 sport, dport;
};

/*
 * tcp_send_reset's record changed in Linux 6.10 (its own event, with the reason, and addresses
 * as sockaddr): before, the remote port is a host-order u16 `dport` (offset 30); after, it is
 * big-endian at byte 2 of `daddr` (offset 62). Userspace reads the format file and sets these.
 */
const volatile u32 hm_tcp_rst_port_off = 62;
const volatile u32 hm_tcp_rst_port_be = 1;

/* Words of the record copied to the stack, where the port may be read at any offset (a
 * tracepoint context only allows loads at fixed offsets, and none past the record: 64 bytes
 * are within both layouts, 80 and 88 bytes long). */
#define HM_RST_WORDS 8

struct hm_receive_reset {
	struct trace_entry ent;
	const void *skaddr;
	u16 sport, dport;
};

struct hm_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate, newstate;
	u16 sport, dport, family, protocol;
};

static __always_inline void count(u16 event, u16 rport)
{
	struct hm_tcp_key key = { .event = event, .rport = rport };
	u64 one = 1, *c = bpf_map_lookup_elem(&hm_tcp_events, &key);

	if (c)
		*c += 1;
	else
		bpf_map_update_elem(&hm_tcp_events, &key, &one, BPF_NOEXIST);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int hm_tcp_retransmit(struct hm_retransmit *ctx)
{
	count(HM_RETRANSMIT, ctx->dport);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int hm_tcp_send_reset(u64 *ctx)
{
	u64 rec[HM_RST_WORDS] = {};
	u32 off = hm_tcp_rst_port_off;
	u16 port = 0;

	/* Word 0 (the common fields) is not readable from a tracepoint program, nor needed. */
	for (int i = 1; i < HM_RST_WORDS; i++)
		rec[i] = ctx[i];
	if (off > sizeof(rec) - sizeof(port))
		return 0;
	__builtin_memcpy(&port, (u8 *)rec + off, sizeof(port));
	count(HM_SEND_RESET, hm_tcp_rst_port_be ? bpf_ntohs(port) : port);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int hm_tcp_receive_reset(struct hm_receive_reset *ctx)
{
	count(HM_RECEIVE_RESET, ctx->dport);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int hm_tcp_state(struct hm_set_state *ctx)
{
	u32 slot;
	u64 *c;

	if (ctx->protocol != 6 /* IPPROTO_TCP */)
		return 0;
	slot = ((u32)ctx->oldstate & 15) * 16 + ((u32)ctx->newstate & 15);
	c = bpf_map_lookup_elem(&hm_tcp_states, &slot);
	if (c)
		*c += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
