// Package proxy is the edge's SIP signaling: access listeners facing the phones (TLS, optionally TCP and
// UDP), a core listener toward the PBX, a flow table (RFC 5626 ideas: one authenticated user per
// connection), REGISTER forwarding with Path (RFC 3327) or a local registrar (standalone mode), a
// dialog-aware stateful proxy with two Record-Route entries (RFC 5658), topology hiding toward the access
// side, local digest authentication, PBX health probing with failover, and the limits that keep bad input
// from hurting anyone else.
//
// A request from the access side passes one visible chain (see accessChain in proxy.go): validate ->
// screen (policy hook: bans, floods, scanners) -> identify (flow identity or authentication) -> authorize
// (policy hook: RBAC, fraud) -> route (PBX target or local registrar) -> forward. Requests from the core
// side are routed by the flow token in their Route (from Path or Record-Route) and refused with 430 when
// the flow is gone.
package proxy
