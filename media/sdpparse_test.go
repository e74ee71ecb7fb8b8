package media

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSDPKeepsSectionsPionRefuses(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 5000 rtp/avp 0\r\na=rtpmap:0 PCMU/8000\r\n" +
		"m=image 5002 udptl t38\r\na=T38FaxVersion:0\r\n" +
		"m=video 5004 RTP/AVP 96\r\n"
	sd, err := ParseSDP([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, md := range sd.MediaDescriptions {
		got = append(got, md.MediaName.Media+" "+strings.Join(md.MediaName.Protos, "/")+" "+strings.Join(md.MediaName.Formats, ","))
	}
	want := "audio rtp/avp 0|image udptl t38|video RTP/AVP 96"
	if strings.Join(got, "|") != want {
		t.Errorf("sections %q, want %q", got, want)
	}
	if len(sd.MediaDescriptions) == 3 && len(sd.MediaDescriptions[1].Attributes) != 1 {
		t.Errorf("the T.38 section lost its attributes: %+v", sd.MediaDescriptions[1].Attributes)
	}
	if !IsPlainRTP(sd.MediaDescriptions[0]) {
		t.Error("a lower-case rtp/avp section is not recognised as RTP")
	}
	for _, bad := range []string{"", "garbage", "v=0\r\nm=audio x RTP/AVP 0\r\n"} {
		if _, err := ParseSDP([]byte(bad)); !errors.Is(err, ErrSDP) {
			t.Errorf("%q: err %v, want ErrSDP", bad, err)
		}
	}
}

// ParseSDP takes bodies from the network (both sides of the edge, and the phone): it never panics, and
// what it accepts marshals and parses again with the same number of sections.
func FuzzParseSDP(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=image 5002 udptl t38\r\nm=audio 0 rtp/avp 8\n"))
	f.Add([]byte("m=\nm=x\r\nm=a b c d\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := ParseSDP(b)
		if err != nil {
			if !errors.Is(err, ErrSDP) {
				t.Fatalf("error %v does not wrap ErrSDP", err)
			}
			return
		}
		out, err := sd.Marshal()
		if err != nil {
			return
		}
		again, err := ParseSDP(out)
		if err != nil {
			return // pion's marshal is not always parseable by pion (e.g. empty fields); never a panic
		}
		if len(again.MediaDescriptions) != len(sd.MediaDescriptions) {
			t.Fatalf("%d sections, %d after a round trip:\n%q\n%q", len(sd.MediaDescriptions), len(again.MediaDescriptions), b, out)
		}
	})
}
