//! HyperMesh asset adapters and the asset manager.
