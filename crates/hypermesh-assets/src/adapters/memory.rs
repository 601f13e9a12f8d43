//! Memory assets: one per NUMA node with memory, or one for the host when NUMA is unknown.

use crate::adapter::{AssetAdapter, HostView, section_missing, share};
use crate::allowed::node_allowed;
use crate::asset::{Asset, Health};
use crate::kind::AssetKind;
use hypermesh_os::Section;

/// Offers memory per NUMA node this process may allocate from (its cpuset's memory nodes);
/// allocatable = MemTotal minus the reserve spread over all nodes in proportion to their size,
/// and the cgroup memory limit spread over the allowed nodes the same way.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryAdapter;

impl AssetAdapter for MemoryAdapter {
    fn kind(&self) -> AssetKind {
        AssetKind::Memory
    }

    fn assets(&self, host: &HostView<'_>, problems: &mut Vec<String>) -> Result<Vec<Asset>, String> {
        let memory =
            host.profile.memory.as_ref().ok_or_else(|| section_missing(host.profile, Section::Memory))?;
        if memory.total_bytes == 0 {
            return Err("the memory section reports MemTotal = 0".into());
        }
        let pool = memory.total_bytes.saturating_sub(host.config.reserve.memory_bytes);
        let limit = host.live.memory_limit_bytes;
        let nodes: Vec<_> = host
            .profile
            .numa
            .iter()
            .flat_map(|n| &n.nodes)
            .filter_map(|node| match node.memory_total_bytes {
                Some(total) if total > 0 => Some((node, total)),
                Some(_) => None,
                None => {
                    problems.push(format!("NUMA node {}: memory size unknown", node.id));
                    None
                }
            })
            .collect();
        let asset = |id: String, numa_node, capacity, allocatable, utilisation| Asset {
            id,
            kind: AssetKind::Memory,
            description: format!("{} RAM", AssetKind::Memory.format_amount(capacity)),
            numa_node,
            cpus: Vec::new(),
            solid_state: None,
            capacity,
            allocatable,
            utilisation,
            health: Health::default(),
            sharing: host.config.sharing,
            // The host-wide asset overlaps every node: unknown.
            hardware: numa_node.map(|n: u32| vec![format!("numa{n}")]).unwrap_or_default(),
        };
        let nodes_total: u64 = nodes.iter().map(|(_, total)| total).sum();
        // Node sizes that do not add up to MemTotal (memory outside every node, as on some
        // Firecracker VMs, or a hand-edited tree) cannot be split honestly: offer one host asset.
        let nodes_match = nodes_total.abs_diff(memory.total_bytes) <= memory.total_bytes / 100;
        if !nodes.is_empty() && !nodes_match {
            problems.push(format!(
                "NUMA nodes hold {nodes_total} bytes but MemTotal is {} bytes: memory offered as one host-wide asset",
                memory.total_bytes
            ));
        }
        if nodes.is_empty() || !nodes_match {
            let used = memory.available_bytes.map(|a| memory.total_bytes.saturating_sub(a));
            if nodes.iter().any(|(node, _)| !node_allowed(host.profile, node.id)) {
                problems
                    .push("the host-wide memory asset includes NUMA nodes the cpuset does not allow".into());
            }
            return Ok(vec![asset(
                "memory:host".into(),
                None,
                memory.total_bytes,
                limit.map_or(pool, |l| pool.min(l)),
                used.map(|u| fraction(u, memory.total_bytes)),
            )]);
        }
        let allowed: Vec<_> =
            nodes.into_iter().filter(|(node, _)| node_allowed(host.profile, node.id)).collect();
        let allowed_total: u64 = allowed.iter().map(|(_, total)| total).sum();
        Ok(allowed
            .into_iter()
            .map(|(node, total)| {
                let used = host
                    .live
                    .memory_used_bytes
                    .get(&node.id)
                    .copied()
                    .or_else(|| node.memory_free_bytes.map(|f| total.saturating_sub(f)));
                asset(
                    format!("memory:numa{}", node.id),
                    Some(node.id),
                    total,
                    limit
                        .map_or(u64::MAX, |l| share(l, total, allowed_total))
                        .min(share(pool, total, nodes_total))
                        .min(total),
                    used.map(|u| fraction(u, total)),
                )
            })
            .collect())
    }
}

/// `part / whole`, clamped to 0..=1.
fn fraction(part: u64, whole: u64) -> f64 {
    (part as f64 / whole as f64).clamp(0.0, 1.0)
}
