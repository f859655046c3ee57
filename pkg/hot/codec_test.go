package hot

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"

	"github.com/silt-io/silt/pkg/event"
	"github.com/silt-io/silt/pkg/record"
)

// decodeBlock decodes a whole block through a blockCursor, as Read does
// one event at a time: the tests' view of a block.
func decodeBlock(b []byte) (blockHeader, []event.Event, error) {
	var scratch []byte
	c, err := openBlock(b, &scratch)
	if err != nil {
		return blockHeader{}, nil, err
	}
	events := make([]event.Event, 0, min(c.h.Count, uint64(len(b))))
	for c.more() {
		var e event.Event
		if err := c.decode(&e); err != nil {
			return blockHeader{}, nil, err
		}
		events = append(events, e)
	}
	return c.h, events, c.finish()
}

func sampleEvents() []event.Event {
	return []event.Event{
		{
			ID: "id-1", Type: "order.created", Source: "shop", Subject: "o/1",
			Time:       time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.UTC),
			Attributes: map[string]string{"region": "eu", "": "empty key"},
			Metrics:    map[string]float64{"amount": 12.5, "neg": -1, "inf": math.Inf(1)},
			Data:       []byte(`{"a":1}`),
		},
		{ID: "id-2", ContentType: "application/octet-stream", Data: []byte{0, 1, 2, 255}},
		{ID: "id-3", Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "id-4", Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
}

func encodeTestBlock(h blockHeader, evs []event.Event) []byte {
	b := appendBlockHeader(nil, h)
	for i := range evs {
		b = appendEvent(b, &evs[i], evs[i].ID)
	}
	return b
}

func TestCodec_DecodeBlock_RoundTrip(t *testing.T) {
	t.Parallel()
	// Records whose length prefix takes 1, 2 and 3 bytes.
	evs := append(sampleEvents(),
		event.Event{ID: "id-5", Data: bytes.Repeat([]byte("x"), 200), Attributes: map[string]string{"k": "v"}},
		event.Event{ID: "id-6", Data: bytes.Repeat([]byte("y"), 20000), Metrics: map[string]float64{"m": 1}})
	h := blockHeader{FirstSeq: 41, Count: uint64(len(evs)), IngestTime: time.Date(2026, 1, 1, 0, 0, 0, 7, time.UTC), ContentType: "application/json"}
	b := encodeTestBlock(h, evs)
	gotH, got, err := decodeBlock(b)
	if err != nil {
		t.Fatalf("decodeBlock: %v", err)
	}
	if !reflect.DeepEqual(gotH, h) {
		t.Errorf("header = %+v, want %+v", gotH, h)
	}
	for i := range evs {
		want := evs[i]
		want.Seq = 41 + uint64(i)
		want.IngestTime = h.IngestTime
		if want.ContentType == "" && want.HasPayload() {
			want.ContentType = h.ContentType
		}
		if want.Time.IsZero() {
			want.Time = h.IngestTime // a reader's default
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("event %d = %+v\nwant %+v", i, got[i], want)
		}
	}
	for _, e := range got {
		if len(e.Data) > 0 && &e.Data[0] == &b[len(b)-1] {
			t.Errorf("decoded data aliases the block")
		}
	}
}

func TestCodec_DecodeBlock_RejectsGarbage(t *testing.T) {
	t.Parallel()
	good := encodeTestBlock(blockHeader{FirstSeq: 1, Count: 1, IngestTime: time.Unix(1, 0)}, sampleEvents()[:1])
	cases := map[string][]byte{
		"empty":        nil,
		"version":      append([]byte{9}, good[1:]...),
		"truncated":    good[:len(good)-1],
		"trailing":     append(bytes.Clone(good), 0),
		"zero count":   appendBlockHeader(nil, blockHeader{FirstSeq: 1, Count: 0, IngestTime: time.Unix(1, 0)}),
		"seq overflow": encodeTestBlock(blockHeader{FirstSeq: math.MaxUint64, Count: 2, IngestTime: time.Unix(1, 0)}, sampleEvents()[:2]),
	}
	for name, b := range cases {
		if _, _, err := decodeBlock(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: err = %v, want errCorrupt", name, err)
		}
	}
}

func FuzzDecodeBlock(f *testing.F) {
	f.Add(encodeTestBlock(blockHeader{FirstSeq: 1, Count: 4, IngestTime: time.Unix(1, 2), ContentType: "application/json"}, sampleEvents()))
	f.Add([]byte{blockVersion, 1, 1, 0, 0, 0, 1, 0})
	f.Add(encodeCompressedTestBlock(blockHeader{FirstSeq: 1, Count: 4, IngestTime: time.Unix(1, 2), ContentType: "application/json"}, sampleEvents()))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, evs, err := decodeBlock(b)
		if err != nil {
			return
		}
		if uint64(len(evs)) != h.Count {
			t.Fatalf("decoded %d events, header says %d", len(evs), h.Count)
		}
		// What decodes must re-encode to the same bytes when maps are small
		// enough to have one order.
		for _, e := range evs {
			if len(e.Attributes) > 1 || len(e.Metrics) > 1 {
				return
			}
			for _, v := range e.Metrics {
				if math.IsNaN(v) {
					return
				}
			}
		}
		h.Compressed = false // re-encoded with the records as they are
		again := appendBlockHeader(nil, h)
		for i := range evs {
			e := evs[i]
			if e.ContentType == h.ContentType {
				// A record may name the block's type explicitly or leave it empty.
				return
			}
			again = appendEvent(again, &e, e.ID)
		}
		if _, evs2, err := decodeBlock(again); err != nil || !reflect.DeepEqual(evs, evs2) {
			t.Fatalf("re-encoded block does not decode the same: %v", err)
		}
	})
}

// encodeCompressedTestBlock is encodeTestBlock with S2-compressed records.
func encodeCompressedTestBlock(h blockHeader, evs []event.Event) []byte {
	var records []byte
	for i := range evs {
		records = appendEvent(records, &evs[i], evs[i].ID)
	}
	h.Compressed = true
	return append(appendBlockHeader(nil, h), s2.Encode(nil, records)...)
}

func TestCodec_CompressedBlock_RoundTrip(t *testing.T) {
	t.Parallel()
	evs := sampleEvents()
	h := blockHeader{FirstSeq: 7, Count: uint64(len(evs)), IngestTime: time.Unix(5, 6).UTC(), ContentType: "application/json"}
	raw := encodeTestBlock(h, evs)
	z := encodeCompressedTestBlock(h, evs)
	if z[0] != blockVersionS2 {
		t.Fatalf("version byte %d, want %d", z[0], blockVersionS2)
	}
	_, want, err := decodeBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	gotH, got, err := decodeBlock(z)
	if err != nil {
		t.Fatalf("decode compressed block: %v", err)
	}
	if !gotH.Compressed || gotH.FirstSeq != 7 || !reflect.DeepEqual(got, want) {
		t.Errorf("compressed block decodes to %+v %+v\nwant %+v", gotH, got, want)
	}
	for name, b := range map[string][]byte{
		"truncated": z[:len(z)-1],
		"garbage":   append(bytes.Clone(z[:len(z)-8]), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"huge":      append(appendBlockHeader(nil, blockHeader{FirstSeq: 1, Count: 1, Compressed: true}), 0xff, 0xff, 0xff, 0xff, 0x0f),
	} {
		if _, _, err := decodeBlock(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: err = %v, want errCorrupt", name, err)
		}
	}
}

// TestStore_Append_CompressesBlocks: a store keeps compressible events in
// compressed blocks, incompressible ones as they are, and reads both back.
func TestStore_Append_CompressesBlocks(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	text := make([]event.Event, 500)
	for i := range text {
		text[i] = event.Event{Type: "t", ContentType: event.ContentTypeJSON, Data: []byte(fmt.Sprintf(`{"i":%d,"plan":"pro","country":"DE"}`, i))}
	}
	noise := []event.Event{{Type: "t", ContentType: "application/octet-stream", Data: randomBytes(100_000)}}
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "text", Events: record.Pack(text...), AutoCreate: true})
	mustAppend(t, s, event.AppendRequest{Project: "p", Stream: "noise", Events: record.Pack(noise...), AutoCreate: true})
	for stream, want := range map[string]bool{"text": true, "noise": false} {
		x := snapshotExtent(t, s, "p", stream)
		err := s.db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(blockKey(x.ID, x.LastSeq))
			if err != nil {
				return err
			}
			return item.Value(func(v []byte) error {
				if got := v[0] == blockVersionS2; got != want {
					t.Errorf("%s: block compressed = %v, want %v", stream, got, want)
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "text", FromSeq: 250, Limit: 1000}).Events
	if len(got) != 251 || string(got[0].Data) != string(text[249].Data) || string(got[250].Data) != string(text[499].Data) {
		t.Errorf("read %d events from a compressed block", len(got))
	}
	if got := mustRead(t, s, event.ReadRequest{Project: "p", Stream: "noise"}).Events; len(got) != 1 || !bytes.Equal(got[0].Data, noise[0].Data) {
		t.Errorf("incompressible event does not read back")
	}
}
