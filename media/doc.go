// Package media is the media core shared by the edge's relay and the softphone.
//
// It holds what both sides of a call need and nothing that belongs to one of them:
//
//   - SDES key exchange (RFC 4568): [CryptoAttr], [ParseCrypto], [NewCryptoAttr] and the
//     offer/answer helpers [SelectCrypto], [AnswerCrypto], [OfferCryptos], [MatchAnswer].
//   - SRTP/SRTCP protection (RFC 3711, RFC 7714) on top of pion/srtp/v3 with replay
//     protection always on: [Encryptor] for what we send, [Decryptor] for what we receive.
//   - RTP receive statistics (RFC 3550 appendix A): [RTPStats], plus a simplified
//     E-model call quality estimate [EstimateMOS].
//   - Packet demultiplexing: [IsRTCP] (RFC 5761) and [Classify] (RFC 7983).
//   - Small SDP helpers on pion/sdp/v3 (sdp.go): crypto lines, connection address and
//     port, direction, rtcp-mux, RTP/AVP versus RTP/SAVP.
//
// Codecs, audio I/O, the jitter buffer and DTMF live in the sub-packages.
package media
