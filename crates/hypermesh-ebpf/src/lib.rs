//! HyperMesh eBPF layer (Linux): kernel capability probe, bytecode check, program lifecycle.
