// SPDX-License-Identifier: GPL-2.0
/*
 * Counts packets and bytes per protocol on an interface's receive path and passes every packet
 * (XDP_PASS). Slot pairs (packets, bytes) of a per-CPU array, classes in the order of
 * `enum hm_xdp_class`: the network layer (IPv4, IPv6, ARP, other), then the transport layer of
 * IP packets (TCP, UDP, ICMP, ICMPv6, other). VLAN tags are not followed (counted as other).
 */
#include "vmlinux-min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum hm_xdp_class {
	HM_IPV4, HM_IPV6, HM_ARP, HM_L3_OTHER,
	HM_TCP, HM_UDP, HM_ICMP, HM_ICMPV6, HM_L4_OTHER,
	HM_CLASSES,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HM_CLASSES * 2);
	__type(key, u32);
	__type(value, u64);
} hm_xdp_counts SEC(".maps");

static __always_inline void count(u32 class, u64 bytes)
{
	u32 slot = class * 2;
	u64 *c = bpf_map_lookup_elem(&hm_xdp_counts, &slot);

	if (c)
		*c += 1;
	slot += 1;
	c = bpf_map_lookup_elem(&hm_xdp_counts, &slot);
	if (c)
		*c += bytes;
}

static __always_inline u32 l4_class(u8 proto)
{
	switch (proto) {
	case 6: return HM_TCP;
	case 17: return HM_UDP;
	case 1: return HM_ICMP;
	case 58: return HM_ICMPV6;
	default: return HM_L4_OTHER;
	}
}

SEC("xdp")
int hm_xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	u64 bytes = end - data;
	struct ethhdr *eth = data;
	u16 proto;

	if ((void *)(eth + 1) > end) {
		count(HM_L3_OTHER, bytes);
		return XDP_PASS;
	}
	proto = bpf_ntohs(eth->h_proto);
	if (proto == 0x0800) {
		struct iphdr *ip = (void *)(eth + 1);

		count(HM_IPV4, bytes);
		if ((void *)(ip + 1) <= end)
			count(l4_class(ip->protocol), bytes);
	} else if (proto == 0x86DD) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		count(HM_IPV6, bytes);
		if ((void *)(ip6 + 1) <= end)
			count(l4_class(ip6->nexthdr), bytes);
	} else if (proto == 0x0806) {
		count(HM_ARP, bytes);
	} else {
		count(HM_L3_OTHER, bytes);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
