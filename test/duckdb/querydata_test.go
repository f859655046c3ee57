package duckcheck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/duckdb/duckdb-go/v2"
	"google.golang.org/protobuf/types/known/timestamppb"

	siltv1 "github.com/silt-io/silt/gen/silt/v1"
	"github.com/silt-io/silt/gen/silt/v1/siltv1connect"
	"github.com/silt-io/silt/pkg/event"
)

// The query test's data set: events of one project appended through the
// API in batches to twenty streams of skewed sizes, with every kind of
// value a query filters, groups or aggregates, and every kind of absence
// (no time, no attribute, no metric, a JSON path that does not resolve or
// resolves to null, a payload that is not JSON).

// queryProject is the project the query test fills and queries; otherProject
// gets a few events too, which no query of queryProject may count.
const (
	queryProject = "acme"
	otherProject = "other"
)

// queryDays is how many days the events' times spread over.
const queryDays = 30

var (
	// qStreams are the streams and how often a batch goes to each; the
	// biggest gets under a quarter of the events, so that a percentile per
	// stream stays in the exact regime (100,000 values per group).
	qStreams = []weighted{
		{"web/pageviews", 40}, {"web/clicks", 25}, {"web/search", 12}, {"web/errors", 4},
		{"api/v1/orders", 15}, {"api/v1/users", 8}, {"api/v2/orders", 10}, {"api/v2/users", 5},
		{"mobile/ios", 14}, {"mobile/android", 12}, {"billing/invoices", 3}, {"billing/payments", 4},
		{"audit", 2}, {"auth/login", 9}, {"auth/logout", 3}, {"jobs/nightly", 1},
		{"jobs/hourly", 2}, {"email/sent", 6}, {"email/bounced", 1}, {"search/index", 3},
	}
	qTypes = []weighted{
		{"page.view", 30}, {"click", 20}, {"search", 10}, {"order.created", 8}, {"order.paid", 6},
		{"user.signup", 3}, {"user.login", 10}, {"error", 5}, {"job.run", 3}, {"email.sent", 5},
	}
	qOrgs = []string{
		"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne",
		"Soylent", "Aperture", "BlackMesa", "Massive", "Oscorp", "Vandelay", "Dunder", "Gringotts", "Monarch", "PiedPiper",
	}
	qSources = []string{"web", "ios", "android", "api", "cron"}
	qPlans   = []string{"free", "pro", "team", "enterprise"}
	// qNotes: some hold the needle in various cases, some a word whose case
	// folds beyond ASCII.
	qNotes = []string{
		"all good", "found a needle in the haystack", "NEEDLE found", "Needles everywhere",
		"haystack only", "Grüße aus KÖLN", "köln calling", "nothing to see", "retrying after timeout",
		"Straße closed",
	}
)

// queryData is what the test appended, as it appended it.
type queryData struct {
	// events are queryProject's events in append order, with the seq and
	// ingest time their Append responses gave them.
	events []event.Event
	// base is the start of the queryDays days the event times lie in.
	base time.Time
	// cold is how many of events the last rotation sealed into segments
	// (the first cold events); the rest are hot.
	cold int
	// coldSize is, per stream, how many of its events are in segments:
	// seqs up to coldSize are cold, the rest hot.
	coldSize map[string]int
	// ingest is the ingest time of each batch, in append order.
	ingest []time.Time
	// streamSize is the number of events of each stream.
	streamSize map[string]int
}

// weighted is a name that a generator picks in proportion to its weight.
type weighted struct {
	name   string
	weight int
}

// pick returns an index into items, each chosen in proportion to its weight.
func pick(r *rand.Rand, items []weighted) int {
	total := 0
	for _, it := range items {
		total += it.weight
	}
	n := r.IntN(total)
	for i, it := range items {
		if n -= it.weight; n < 0 {
			return i
		}
	}
	return len(items) - 1
}

// genQueryEvent makes event i of the data set; the server sets its stream,
// seq and ingest time.
func genQueryEvent(r *rand.Rand, i int, base time.Time) event.Event {
	user := r.IntN(40_000)
	e := event.Event{
		ID:      fmt.Sprintf("q%07d", i),
		Type:    qTypes[pick(r, qTypes)].name,
		Source:  qSources[r.IntN(len(qSources))],
		Subject: "user-" + strconv.Itoa(user),
	}
	switch k := r.IntN(100); {
	case k < 3: // no time
	case k < 5:
		// On the hour: on the edges of buckets and ranges, and in ties
		// that the order breaks by stream and seq.
		e.Time = base.Add(time.Duration(r.IntN(queryDays*24)) * time.Hour)
	default:
		// Microseconds: DuckDB's TIMESTAMP holds no more.
		e.Time = base.Add(time.Duration(r.Int64N(int64(queryDays * 24 * time.Hour)))).Truncate(time.Microsecond)
	}
	e.Attributes = map[string]string{}
	if r.IntN(100) >= 4 {
		// Skewed: the first orgs are the biggest.
		e.Attributes["org"] = qOrgs[min(int(r.ExpFloat64()*6), len(qOrgs)-1)]
	}
	switch k := r.IntN(100); {
	case k < 70:
		e.Attributes["status"] = "ok"
	case k < 78:
		e.Attributes["status"] = "error"
	case k < 82:
		e.Attributes["status"] = "timeout"
	case k < 85:
		e.Attributes["status"] = "retry"
	}
	if r.IntN(2) == 0 {
		// A key with a dot: the field is attributes.http.method.
		e.Attributes["http.method"] = []string{"GET", "POST", "PUT"}[r.IntN(3)]
	}
	e.Metrics = map[string]float64{}
	if r.IntN(100) >= 15 {
		// Log-normal quarter milliseconds: sums are exact in any order.
		e.Metrics["duration"] = min(math.Round(math.Exp(3.5+1.2*r.NormFloat64())*4)/4, 1e6)
	}
	if r.IntN(100) < 40 {
		e.Metrics["bytes"] = float64(int(math.Exp(8 + 2*r.NormFloat64())))
	}
	// Some without a source (null) or with an empty one, an empty subject.
	switch i % 41 {
	case 3:
		e.Source = ""
	case 5:
		e.Source, e.Present = "", event.PartSource
	case 7:
		e.Subject, e.Present = "", event.PartSubject
	}
	switch k := r.IntN(1000); {
	case i%53 == 9: // no payload: a point of attributes and metrics
		return e
	case k < 8:
		e.ContentType, e.Data = "application/octet-stream", randomBytes(r, 16+r.IntN(112))
		return e
	case k < 10:
		// Not JSON, so not data: the needle here must not count.
		e.ContentType, e.Data = "text/plain", []byte("a needle in plain text")
		return e
	case k < 13:
		// JSON, but no object: no path resolves.
		e.ContentType, e.Data = event.ContentTypeJSON, []byte(`[1,"needle",{"user":{"plan":"pro"}}]`)
		return e
	}
	p := map[string]any{"note": qNotes[r.IntN(len(qNotes))]}
	switch k := r.IntN(100); {
	case k < 80:
		p["user"] = map[string]any{"id": user, "plan": qPlans[user%len(qPlans)]}
	case k < 88:
		p["user"] = map[string]any{"id": user} // no plan
	case k < 93:
		p["user"] = map[string]any{"id": user, "plan": nil} // null: missing too
	case k < 97:
		p["user"] = "anonymous" // a string: $.user.plan does not resolve
	}
	if k := r.IntN(100); k < 80 {
		if k < 3 {
			p["level"] = "3" // a string: matches no number
		} else {
			p["level"] = 1 + r.IntN(5)
		}
	}
	if r.IntN(2) == 0 {
		p["beta"] = r.IntN(3) == 0
	}
	if r.IntN(100) < 60 {
		p["items"] = r.IntN(21)
	}
	if r.IntN(100) < 40 {
		// Some empty: $.tags[0] does not resolve.
		p["tags"] = []string{"red", "green", "blue"}[r.IntN(4):]
	}
	if r.IntN(2) == 0 {
		p["geo.country"] = []string{"DE", "US", "FR"}[r.IntN(3)] // $["geo.country"]
	}
	e.ContentType = event.ContentTypeJSON
	e.Data, _ = json.Marshal(p) // compact, keys sorted
	return e
}

// queryInput is the API form of an event of the data set. JSON goes as
// binary_data with content type application/json, which the server
// stores as it is: the test knows the exact text that data holds.
func queryInput(e event.Event) *siltv1.EventInput {
	in := &siltv1.EventInput{
		Id: e.ID, Type: e.Type, Source: optional(e.Source, e.HasSource()), Subject: optional(e.Subject, e.HasSubject()),
		Attributes: e.Attributes, Metrics: e.Metrics, ContentType: e.ContentType,
		Payload: &siltv1.EventInput_BinaryData{BinaryData: e.Data},
	}
	if !e.HasPayload() {
		in.Payload = nil
	}
	if !e.Time.IsZero() {
		in.Time = timestamppb.New(e.Time)
	}
	return in
}

// appendQueryData appends n events of queryProject through the API in
// 200 batches (the first twenty, one to each stream), a few of
// otherProject, and rotates twice: queryProject after 70 batches, every
// project after 140. The rest stays hot.
func appendQueryData(ctx context.Context, t *testing.T, url string, n int) *queryData {
	t.Helper()
	events := siltv1connect.NewEventServiceClient(http.DefaultClient, url)
	admin := siltv1connect.NewAdminServiceClient(http.DefaultClient, url)
	r := rand.New(rand.NewPCG(seed, 42))
	d := &queryData{
		base:       time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1-queryDays),
		streamSize: map[string]int{},
	}
	appendBatch := func(project, stream string, batch []event.Event) {
		t.Helper()
		req := &siltv1.AppendRequest{Project: project, Stream: stream}
		for _, e := range batch {
			req.Events = append(req.Events, queryInput(e))
		}
		res, err := events.Append(ctx, connect.NewRequest(req))
		if err != nil {
			t.Fatalf("append %d events to %s/%s: %v", len(batch), project, stream, err)
		}
		m := res.Msg
		if got := m.GetLastSeq() - m.GetFirstSeq() + 1; got != uint64(len(batch)) || m.GetDuplicate() {
			t.Fatalf("append %d events to %s/%s: seqs %d..%d, duplicate %v", len(batch), project, stream, m.GetFirstSeq(), m.GetLastSeq(), m.GetDuplicate())
		}
		if project != queryProject {
			return
		}
		if want := uint64(d.streamSize[stream] + 1); m.GetFirstSeq() != want {
			t.Fatalf("append to %s: first seq %d, want %d", stream, m.GetFirstSeq(), want)
		}
		ingest := m.GetIngestTime().AsTime()
		for i, e := range batch {
			e.Project, e.Stream, e.Seq, e.IngestTime = project, stream, m.GetFirstSeq()+uint64(i), ingest
			d.events = append(d.events, e)
		}
		d.streamSize[stream] += len(batch)
		d.ingest = append(d.ingest, ingest)
	}
	rotate := func(project string) {
		t.Helper()
		res, err := admin.Rotate(ctx, connect.NewRequest(&siltv1.RotateRequest{Project: project}))
		if err != nil {
			t.Fatalf("rotate %q: %v", project, err)
		}
		if len(res.Msg.GetSegments()) == 0 {
			t.Fatalf("rotate %q wrote no segment", project)
		}
		d.cold, d.coldSize = len(d.events), maps.Clone(d.streamSize)
	}
	const batches = 200
	// Batch b holds events cut(b) to cut(b+1)-1: n/batches each, give or
	// take a quarter.
	cut := func(b int) int {
		if b == 0 || b == batches {
			return b * n / batches
		}
		return b*n/batches + r.IntN(n/batches/2+1) - n/batches/4
	}
	next := 0
	for b := range batches {
		s := b
		if b >= len(qStreams) {
			s = pick(r, qStreams)
		}
		size := cut(b+1) - next
		batch := make([]event.Event, size)
		for i := range batch {
			batch[i] = genQueryEvent(r, next+i, d.base)
		}
		next += size
		appendBatch(queryProject, qStreams[s].name, batch)
		switch b {
		case 50, 150:
			other := make([]event.Event, 100)
			for i := range other {
				other[i] = genQueryEvent(r, i, d.base)
			}
			appendBatch(otherProject, qStreams[b%len(qStreams)].name, other)
		case 70:
			rotate(queryProject)
		case 140:
			rotate("")
		}
	}
	if len(d.events) != n || len(d.ingest) != batches || d.cold == 0 || d.cold == n {
		t.Fatalf("appended %d events in %d batches, %d of them rotated; want %d in %d, some rotated and some hot",
			len(d.events), len(d.ingest), d.cold, n, batches)
	}
	return d
}

// duckSchema is the DuckDB table the test loads the appended events into:
// the event as the API took it, plus the seq and ingest time the server
// gave it. time holds microseconds, which is all the test's times have;
// ingest_time keeps the server's nanoseconds, and so does ingest_ns.
const duckSchema = `CREATE TABLE ev (
	stream VARCHAR NOT NULL, seq UBIGINT NOT NULL, id VARCHAR NOT NULL,
	type VARCHAR NOT NULL, source VARCHAR, subject VARCHAR,
	time TIMESTAMP, ingest_time TIMESTAMP_NS NOT NULL, ingest_ns BIGINT NOT NULL,
	attributes MAP(VARCHAR, VARCHAR) NOT NULL, metrics MAP(VARCHAR, DOUBLE) NOT NULL,
	content_type VARCHAR NOT NULL,
	data VARCHAR,     -- JSON text; NULL when the payload is not JSON
	data_binary BLOB  -- the payload when it is not JSON
)`

// duckMacros read a JSON path with the typing docs/query.md gives it: a
// value of the wrong JSON type, null or no value at all is NULL.
var duckMacros = []string{
	`CREATE MACRO jstr(d, p) AS CASE WHEN json_type(d, p) = 'VARCHAR' THEN json_extract_string(d, p) END`,
	`CREATE MACRO jnum(d, p) AS CASE WHEN json_type(d, p) IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN TRY_CAST(json_extract(d, p) AS DOUBLE) END`,
	`CREATE MACRO jbool(d, p) AS CASE WHEN json_type(d, p) = 'BOOLEAN' THEN TRY_CAST(json_extract(d, p) AS BOOLEAN) END`,
	`CREATE MACRO jexists(d, p) AS coalesce(json_type(d, p) <> 'NULL', false)`,
}

// loadDuckDB loads events into table ev of a fresh in-memory DuckDB with
// an Appender, and checks that DuckDB holds them as given.
func loadDuckDB(ctx context.Context, t *testing.T, events []event.Event) *sql.DB {
	t.Helper()
	db := openDuckDB(t)
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	for _, q := range append([]string{duckSchema}, duckMacros...) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "ev")
		if err != nil {
			return err
		}
		for i := range events {
			if err := app.AppendRow(duckRow(&events[i])...); err != nil {
				app.Close()
				return fmt.Errorf("event %d: %w", i, err)
			}
		}
		return app.Close()
	})
	if err != nil {
		t.Fatalf("append to DuckDB: %v", err)
	}
	var rows, lostNanos, maps int64
	err = conn.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE epoch_ns(ingest_time) <> ingest_ns),
		sum(cardinality(attributes) + cardinality(metrics)) FROM ev`).Scan(&rows, &lostNanos, &maps)
	if err != nil {
		t.Fatal(err)
	}
	var wantMaps int64
	for _, e := range events {
		wantMaps += int64(len(e.Attributes) + len(e.Metrics))
	}
	if rows != int64(len(events)) || lostNanos != 0 || maps != wantMaps {
		t.Fatalf("DuckDB holds %d events (%d with other ingest nanoseconds), %d map entries; want %d, 0, %d",
			rows, lostNanos, maps, len(events), wantMaps)
	}
	return db
}

// duckRow is e as a row of table ev.
func duckRow(e *event.Event) []driver.Value {
	var data, binary, source, subject driver.Value
	tm := e.Time
	if tm.IsZero() { // stored without a time: read with its ingest time
		tm = e.IngestTime
	}
	switch {
	case !e.HasPayload(): // both null
	case e.IsJSON():
		data = string(e.Data)
	default:
		binary = e.Data
	}
	if e.HasSource() { // null: absent
		source = e.Source
	}
	if e.HasSubject() {
		subject = e.Subject
	}
	var attrs, mets duckdb.OrderedMap
	for k, v := range e.Attributes {
		attrs.Set(k, v)
	}
	for k, v := range e.Metrics {
		mets.Set(k, v)
	}
	return []driver.Value{
		e.Stream, e.Seq, e.ID, e.Type, source, subject,
		tm, e.IngestTime, e.IngestTime.UnixNano(), attrs, mets,
		e.ContentType, data, binary,
	}
}

// loadICU loads DuckDB's ICU extension, which gives it time zones, and
// sets the session's zone to UTC; an error means the calendar cases
// cannot be checked (the extension may be neither built in nor installed,
// and the test does not download it).
func loadICU(ctx context.Context, db *sql.DB) error {
	for _, q := range []string{"LOAD icu", "SET TimeZone = 'UTC'"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
