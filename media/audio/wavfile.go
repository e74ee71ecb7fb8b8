package audio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// WAVSource streams a 16-bit PCM WAV file as frames at a chosen sample
// rate. Stereo files are downmixed (the mean of both channels) and files
// at another rate are resampled (see SupportedWAVRates). At the end of the
// file ReadFrame returns io.EOF, or starts over when looping is on.
type WAVSource struct {
	path    string
	f       *os.File
	wr      *wavReader
	dataOff int64
	dataLen int64
	rs      *Resampler
	rate    int
	loop    bool
	in      []int16
	pend    []int16
	eof     bool
	closed  bool
}

// OpenWAV opens path for streaming at sampleRate. A sampleRate of 0 keeps
// the file's own rate. The caller must Close the source.
func OpenWAV(path string, sampleRate int) (*WAVSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	s, err := newWAVSource(path, f, sampleRate)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func newWAVSource(path string, f *os.File, sampleRate int) (*WAVSource, error) {
	cr := &countingReader{r: f}
	fm, size, err := wavHeader(cr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sampleRate == 0 {
		sampleRate = fm.rate
	}
	if sampleRate != fm.rate {
		if err := checkRate(sampleRate); err != nil {
			return nil, err
		}
	}
	s := &WAVSource{path: path, f: f, dataOff: cr.n, dataLen: size, rate: sampleRate}
	s.wr = &wavReader{r: bufio.NewReaderSize(f, 16<<10), f: fm, left: size}
	if fm.rate != sampleRate {
		if s.rs, err = NewResampler(fm.rate, sampleRate); err != nil {
			return nil, err
		}
	}
	return s, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// SetLoop makes the source restart at the beginning of the file instead of
// returning io.EOF.
func (s *WAVSource) SetLoop(loop bool) { s.loop = loop }

// SampleRate implements Source.
func (s *WAVSource) SampleRate() int { return s.rate }

// FileRate is the sample rate stored in the file.
func (s *WAVSource) FileRate() int { return s.wr.f.rate }

// Channels is the channel count stored in the file.
func (s *WAVSource) Channels() int { return s.wr.f.channels }

// ReadFrame implements Source.
func (s *WAVSource) ReadFrame(dst []int16) error {
	if s.closed {
		return ErrClosed
	}
	if len(dst) == 0 {
		return nil
	}
	restarted := false
	for len(s.pend) < len(dst) && !s.eof {
		need := len(dst) - len(s.pend)
		if s.rs != nil {
			need = s.rs.InputFor(need)
		}
		if cap(s.in) < need {
			s.in = make([]int16, need)
		}
		n, err := s.wr.read(s.in[:need])
		switch {
		case err == io.EOF:
			if !s.loop {
				s.eof = true
				if s.rs != nil {
					s.pend = s.rs.Flush(s.pend)
				}
				continue
			}
			if restarted { // rewound and hit the end at once: nothing to loop
				return fmt.Errorf("%w: %s has no audio to loop", ErrUnsupportedWAV, s.path)
			}
			if err := s.rewind(); err != nil {
				return err
			}
			restarted = true
		case err != nil:
			return fmt.Errorf("%s: %w", s.path, err)
		default:
			restarted = false
			if s.rs != nil {
				s.pend = s.rs.Process(s.pend, s.in[:n])
			} else {
				s.pend = append(s.pend, s.in[:n]...)
			}
		}
	}
	if len(s.pend) == 0 {
		return io.EOF
	}
	n := copy(dst, s.pend)
	clear(dst[n:])
	s.pend = s.pend[:copy(s.pend, s.pend[n:])]
	return nil
}

func (s *WAVSource) rewind() error {
	if _, err := s.f.Seek(s.dataOff, io.SeekStart); err != nil {
		return fmt.Errorf("%s: rewinding: %w", s.path, err)
	}
	s.wr.r.Reset(s.f)
	s.wr.left = s.dataLen
	return nil
}

// Close releases the file.
func (s *WAVSource) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.f.Close()
}

// WAVWriter writes 16-bit mono PCM to a WAV file. The header is written
// first with placeholder sizes, which Close fills in; a file left by a
// crashed process has zero sizes, which ReadWAV treats as "to end of file".
type WAVWriter struct {
	w      io.WriteSeeker
	bw     *bufio.Writer
	closer io.Closer
	rate   int
	bytes  int64
	buf    []byte
	closed bool
}

const wavHeaderSize = 44

// CreateWAV creates (or truncates) path and returns a writer for mono audio
// at sampleRate.
func CreateWAV(path string, sampleRate int) (*WAVWriter, error) {
	if err := checkRate(sampleRate); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	w, err := NewWAVWriter(f, sampleRate)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.closer = f
	return w, nil
}

// NewWAVWriter writes a WAV stream to w, which must be positioned at the
// start of the file. Close fixes the sizes but does not close w.
func NewWAVWriter(w io.WriteSeeker, sampleRate int) (*WAVWriter, error) {
	if err := checkRate(sampleRate); err != nil {
		return nil, err
	}
	ww := &WAVWriter{w: w, bw: bufio.NewWriterSize(w, 16<<10), rate: sampleRate}
	if _, err := ww.bw.Write(wavHeaderBytes(sampleRate, 0)); err != nil {
		return nil, fmt.Errorf("audio: writing WAV header: %w", err)
	}
	return ww, nil
}

func wavHeaderBytes(rate int, dataBytes int64) []byte {
	h := make([]byte, wavHeaderSize)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+dataBytes))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavFormatPCM)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(dataBytes))
	return h
}

// maxWAVData keeps the RIFF size field (data + 36) within 32 bits.
const maxWAVData = 0xFFFFFFFF - 36 - 1

// WriteFrame implements Sink.
func (w *WAVWriter) WriteFrame(pcm []int16) error {
	if w.closed {
		return ErrClosed
	}
	n := 2 * len(pcm)
	if w.bytes+int64(n) > maxWAVData {
		return fmt.Errorf("%w: more than %d bytes of audio", ErrWAVTooLarge, int64(maxWAVData))
	}
	if cap(w.buf) < n {
		w.buf = make([]byte, n)
	}
	b := w.buf[:n]
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("audio: writing WAV data: %w", err)
	}
	w.bytes += int64(n)
	return nil
}

// SampleRate is the rate written in the header.
func (w *WAVWriter) SampleRate() int { return w.rate }

// Samples is the number of samples written so far.
func (w *WAVWriter) Samples() int64 { return w.bytes / 2 }

// Close flushes the data, writes the final sizes into the header and closes
// the file if the writer created it. Closing twice is a no-op.
func (w *WAVWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.finish()
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("audio: closing WAV file: %w", cerr)
		}
	}
	return err
}

func (w *WAVWriter) finish() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("audio: writing WAV data: %w", err)
	}
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("audio: fixing WAV header: %w", err)
	}
	if _, err := w.w.Write(wavHeaderBytes(w.rate, w.bytes)); err != nil {
		return fmt.Errorf("audio: fixing WAV header: %w", err)
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("audio: fixing WAV header: %w", err)
	}
	return nil
}
