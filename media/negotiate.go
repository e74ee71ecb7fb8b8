package media

import "fmt"

// SelectCrypto picks, on the answer side, the offered crypto line to accept: the first
// offered line of our most preferred suite (SupportedSuites order) that passes Validate.
// Lines with unsupported session parameters (UNENCRYPTED_SRTP, ...) are never chosen.
// It reports false when no offered line is usable.
func SelectCrypto(offered []CryptoAttr) (CryptoAttr, bool) {
	for _, s := range supportedSuites {
		for _, c := range offered {
			if c.Suite == s && c.Validate() == nil {
				return c, true
			}
		}
	}

	return CryptoAttr{}, false
}

// AnswerCrypto is the answer side of SDES: it selects an offered line (SelectCrypto) and
// returns it as remote (key the Decryptor with it) together with local, a fresh line with
// the same tag and suite and a new random key (key the Encryptor with it and put it in the
// answer). It returns ErrNoCommonSuite when nothing offered is usable.
func AnswerCrypto(offered []CryptoAttr) (remote, local CryptoAttr, err error) {
	remote, ok := SelectCrypto(offered)
	if !ok {
		return CryptoAttr{}, CryptoAttr{}, fmt.Errorf("%w (%d line(s) offered)", ErrNoCommonSuite, len(offered))
	}
	local, err = NewCryptoAttr(remote.Tag, remote.Suite)
	if err != nil {
		return CryptoAttr{}, CryptoAttr{}, err
	}

	return remote, local, nil
}

// OfferCryptos returns one fresh crypto line per suite, tagged 1, 2, ... in the given
// order; with no suites it offers SupportedSuites().
func OfferCryptos(suites ...Suite) ([]CryptoAttr, error) {
	if len(suites) == 0 {
		suites = supportedSuites[:]
	}
	out := make([]CryptoAttr, 0, len(suites))
	for i, s := range suites {
		c, err := NewCryptoAttr(i+1, s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}

	return out, nil
}

// MatchAnswer is the offer side of SDES: given the lines we offered and the single line
// the answer carries, it returns our offered line with the same tag and suite (key the
// Encryptor with it; key the Decryptor with answer). It fails with ErrAnswerMismatch when
// the answer names a tag we did not offer or changes the suite, and with the Validate
// error when the answer itself is unusable.
func MatchAnswer(offered []CryptoAttr, answer CryptoAttr) (CryptoAttr, error) {
	if err := answer.Validate(); err != nil {
		return CryptoAttr{}, fmt.Errorf("answer crypto tag %d: %w", answer.Tag, err)
	}
	for _, c := range offered {
		if c.Tag != answer.Tag {
			continue
		}
		if c.Suite != answer.Suite {
			return CryptoAttr{}, fmt.Errorf("%w: tag %d was offered as %s, answered as %s",
				ErrAnswerMismatch, c.Tag, c.Suite, answer.Suite)
		}

		return c, nil
	}

	return CryptoAttr{}, fmt.Errorf("%w: tag %d was not offered", ErrAnswerMismatch, answer.Tag)
}
