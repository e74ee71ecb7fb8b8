package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// SupportedWAVRates are the sample rates WAV input may have. 8000 and
// 16000 Hz are the codec rates; the others are resampled on the fly.
var SupportedWAVRates = []int{8000, 11025, 16000, 22050, 32000, 44100, 48000}

const (
	wavFormatPCM        = 1
	wavFormatExtensible = 0xFFFE
	maxWAVChunkSkip     = 1 << 24 // a metadata chunk larger than this is not a sane WAV
)

// wavFormat is the validated "fmt " chunk of a WAV file.
type wavFormat struct {
	channels int
	rate     int
}

// wavHeader reads a RIFF/WAVE header up to the start of the "data" chunk
// and returns the format and the data size (-1 when the size is unknown,
// as written by streaming recorders).
func wavHeader(r io.Reader) (wavFormat, int64, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return wavFormat{}, 0, fmt.Errorf("%w: header too short", ErrNotWAV)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return wavFormat{}, 0, fmt.Errorf("%w: no RIFF/WAVE signature", ErrNotWAV)
	}
	var (
		f      wavFormat
		haveFm bool
		hdr    [8]byte
	)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if !haveFm {
				return f, 0, fmt.Errorf("%w: no fmt chunk", ErrNotWAV)
			}
			return f, 0, fmt.Errorf("%w: no data chunk", ErrNotWAV)
		}
		id := string(hdr[0:4])
		size := int64(binary.LittleEndian.Uint32(hdr[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return f, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrNotWAV, size)
			}
			buf := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return f, 0, fmt.Errorf("%w: truncated fmt chunk", ErrNotWAV)
			}
			var err error
			if f, err = parseFmt(buf[:size]); err != nil {
				return f, 0, err
			}
			haveFm = true
		case "data":
			if !haveFm {
				return f, 0, fmt.Errorf("%w: data chunk before fmt chunk", ErrNotWAV)
			}
			if size == 0xFFFFFFFF || size == 0 {
				size = -1 // unknown: read to end of file
			}
			return f, size, nil
		default:
			size += size % 2
			if size > maxWAVChunkSkip {
				return f, 0, fmt.Errorf("%w: %q chunk of %d bytes", ErrNotWAV, id, size)
			}
			if _, err := io.CopyN(io.Discard, r, size); err != nil {
				return f, 0, fmt.Errorf("%w: truncated %q chunk", ErrNotWAV, id)
			}
		}
	}
}

func parseFmt(b []byte) (wavFormat, error) {
	tag := binary.LittleEndian.Uint16(b[0:2])
	ch := int(binary.LittleEndian.Uint16(b[2:4]))
	rate := int(binary.LittleEndian.Uint32(b[4:8]))
	align := int(binary.LittleEndian.Uint16(b[12:14]))
	bits := int(binary.LittleEndian.Uint16(b[14:16]))
	if tag == wavFormatExtensible {
		if len(b) < 40 {
			return wavFormat{}, fmt.Errorf("%w: extensible fmt chunk of %d bytes", ErrNotWAV, len(b))
		}
		tag = binary.LittleEndian.Uint16(b[24:26]) // first two bytes of the sub-format GUID
	}
	if tag != wavFormatPCM {
		return wavFormat{}, fmt.Errorf("%w: encoding %s (need 16-bit PCM)", ErrUnsupportedWAV, wavTagName(tag))
	}
	if bits != 16 {
		return wavFormat{}, fmt.Errorf("%w: %d bits per sample (need 16)", ErrUnsupportedWAV, bits)
	}
	if ch != 1 && ch != 2 {
		return wavFormat{}, fmt.Errorf("%w: %d channels (need 1 or 2)", ErrUnsupportedWAV, ch)
	}
	if !slices.Contains(SupportedWAVRates, rate) {
		return wavFormat{}, fmt.Errorf("%w: %d Hz (supported: %v)", ErrUnsupportedWAV, rate, SupportedWAVRates)
	}
	if align != 2*ch {
		return wavFormat{}, fmt.Errorf("%w: block align %d for %d channels of 16 bits", ErrNotWAV, align, ch)
	}
	return wavFormat{channels: ch, rate: rate}, nil
}

func wavTagName(tag uint16) string {
	switch tag {
	case 3:
		return "IEEE float"
	case 6:
		return "A-law"
	case 7:
		return "mu-law"
	case 2, 0x11:
		return "ADPCM"
	}
	return fmt.Sprintf("format tag 0x%04x", tag)
}

// wavReader yields mono samples from the data chunk, downmixing stereo.
type wavReader struct {
	r    *bufio.Reader
	f    wavFormat
	left int64 // data bytes left, -1 for unknown
	raw  []byte
}

func newWAVReader(r io.Reader) (*wavReader, error) {
	br := bufio.NewReaderSize(r, 16<<10)
	f, size, err := wavHeader(br)
	if err != nil {
		return nil, err
	}
	return &wavReader{r: br, f: f, left: size}, nil
}

// read fills dst with up to len(dst) mono samples. It returns io.EOF with
// n == 0 at the end of the data; a trailing partial sample frame is ignored.
func (w *wavReader) read(dst []int16) (int, error) {
	frame := 2 * w.f.channels
	want := int64(len(dst) * frame)
	if w.left >= 0 && want > w.left {
		want = w.left - w.left%int64(frame)
	}
	if want == 0 {
		return 0, io.EOF
	}
	if int64(cap(w.raw)) < want {
		w.raw = make([]byte, want)
	}
	raw := w.raw[:want]
	got, err := io.ReadFull(w.r, raw)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("audio: reading WAV data: %w", err)
	}
	if w.left >= 0 {
		w.left -= int64(got)
	}
	n := got / frame
	if n == 0 {
		w.left = 0
		return 0, io.EOF
	}
	if w.f.channels == 1 {
		for i := range n {
			dst[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	} else {
		for i := range n {
			a := int32(int16(binary.LittleEndian.Uint16(raw[4*i:])))
			b := int32(int16(binary.LittleEndian.Uint16(raw[4*i+2:])))
			dst[i] = int16((a + b) >> 1)
		}
	}
	if got < len(raw) {
		w.left = 0 // short read: end of file
	}
	return n, nil
}

// ReadWAV reads a whole 16-bit PCM WAV file and returns its samples (stereo
// downmixed to mono) and its sample rate. It is meant for tests and short
// prompts; use OpenWAV to stream long files.
func ReadWAV(path string) ([]int16, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("audio: %w", err)
	}
	defer f.Close()
	wr, err := newWAVReader(f)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	var out []int16
	if st, err := f.Stat(); err == nil && wr.left > 0 {
		// Trust the header's size only as far as the file really goes.
		out = make([]int16, 0, min(wr.left, st.Size())/int64(2*wr.f.channels))
	}
	chunk := make([]int16, 4096)
	for {
		n, err := wr.read(chunk)
		out = append(out, chunk[:n]...)
		if err == io.EOF {
			return out, wr.f.rate, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
	}
}
