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

struct hm_send_reset {
	struct trace_entry ent;
	const void *skbaddr, *skaddr;
	int state;
	u32 reason;
	u8 saddr[28];
	u8 daddr[28]; /* struct sockaddr_in / sockaddr_in6: port (big endian) at offset 2 */
};

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
int hm_tcp_send_reset(struct hm_send_reset *ctx)
{
	u16 port_be = 0;

	__builtin_memcpy(&port_be, &ctx->daddr[2], sizeof(port_be));
	count(HM_SEND_RESET, bpf_ntohs(port_be));
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
