// Package bench holds the anchor benchmarks: each one runs a sipedge component and a well-known
// open-source counterpart side by side in the same run, on loopback, with the same load, and reports
// both figures and their ratio.
//
//   - BenchmarkRelayVsRtpengine: the media relay (package relay, in a child process speaking a small
//     subset of the rtpengine ng protocol) against rtpengine-daemon in userspace mode, relaying
//     RTP->RTP, RTP->SRTP and SRTP->RTP for 50 and 200 concurrent sessions.
//   - BenchmarkProxyVsKamailio: the edge (edgeapp, in a child process) against a minimal stateful
//     Kamailio proxy, both between a sipp UAC and a sipp UAS, at a fixed call count.
//
// Both skip with a message when the anchor or sipp is not installed. The helpers here (bencode, the
// ng client and server, process control, the RTP load generator, sipp statistics) are used only by the
// benchmarks and their tests. See README.md for how to run them and the latest figures.
package bench
