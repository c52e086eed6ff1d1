//! The Sequence REST API: typed models, the client, and the sandbox simulator.
