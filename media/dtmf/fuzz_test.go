package dtmf

import "testing"

// FuzzReceiver: any packet sequence is handled without error or panic, and
// an event is never reported twice in a row.
func FuzzReceiver(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 5, 10, 0, 160, 0, 0, 0, 1, 5, 0x8a, 3, 32})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReceiver()
		var last Received
		var have bool
		for len(data) >= 8 {
			ts := uint32(data[0])<<24 | uint32(data[1])<<16 | uint32(data[2])<<8 | uint32(data[3])
			rec, ok, err := r.Push(ts, data[4:8])
			data = data[8:]
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				if have && rec.Timestamp == last.Timestamp && rec.Event == last.Event {
					t.Fatalf("%+v reported twice", rec)
				}
				last, have = rec, true
			}
		}
	})
}
