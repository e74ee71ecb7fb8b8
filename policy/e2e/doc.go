// Package e2e holds the policy's end-to-end tests: the real edge (edgeapp wiring) in front of Kamailio
// as the PBX, with phones, hand-written SIP clients and SIPVicious as callers and attackers. Tests that
// need source addresses from the GeoIP test databases run inside network namespaces (root; skipped
// locally without it, failed under CI).
package e2e
