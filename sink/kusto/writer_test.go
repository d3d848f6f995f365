package kusto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	kerrors "github.com/Azure/azure-kusto-go/azkustodata/errors"

	"github.com/kconnect/kconnect/sink"
)

// http429 and http400 are the errors the SDK returns for a throttled and a rejected request.
func http429() error {
	return kerrors.HTTP(kerrors.OpFileIngest, "429 Too Many Requests", http.StatusTooManyRequests,
		nopBody(`{"error":{"code":"Throttled","message":"slow down","@permanent":false}}`), "error from Kusto endpoint")
}

func http400() error {
	return kerrors.HTTP(kerrors.OpFileIngest, "400 Bad Request", http.StatusBadRequest,
		nopBody(`{"error":{"code":"BadRequest_EntityNotFound","message":"table 'nope' not found","@permanent":true}}`), "error from Kusto endpoint")
}

// Ported from the Java sink's FileWriterTest.testGzipFileWriter: 9 records of 54 bytes with a
// 100-byte threshold roll after every second record (the roll includes the crossing record).
func TestSizeRollIncludesTheCrossingRecord(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "100", KeyFlushInterval, "60000")
	task := startTask(t, props, fake)
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 53) // + newline = 54 bytes
	for i := range 9 {
		mustPut(t, task, strRecord("topic1", 0, int64(i), line))
	}
	eventually(t, "4 files ingested", func() bool { return len(fake.snapshot()) == 4 })
	for i, f := range fake.snapshot() {
		if f.raw != 108 || f.records != 2 {
			t.Errorf("file %d: %d bytes, %d records; want 108 and 2", i, f.raw, f.records)
		}
	}
	eventually(t, "only the open file of offset 8 left", func() bool {
		return reflect.DeepEqual(spoolFiles(t, props[KeyTempDir]), []string{"kafka_topic1_0_8.CSV.gz"})
	})
	// The explicit roll of the Java test: the open file is sealed as a fifth file of 54 bytes.
	p := task.parts[tp("topic1", 0)]
	p.rollByTime(p.cur)
	eventually(t, "5th file", func() bool { return len(fake.snapshot()) == 5 })
	if last := fake.snapshot()[4]; last.raw != 54 || last.name != "kafka_topic1_0_8.CSV.gz" {
		t.Fatalf("last file %+v", last)
	}
	if got := preCommit(t, task)[tp("topic1", 0)]; got != 9 {
		t.Fatalf("commit offset %d, want 9", got)
	}
	eventually(t, "spool directory empty", func() bool { return len(spoolFiles(t, props[KeyTempDir])) == 0 })
}

// Ported from TopicPartitionWriterTest.testWriteStringValuesAndOffset: the threshold is 111 bytes,
// so the fourth record (offset 15) crosses it; the file is ingested and the commit offset becomes
// 16, while offset 16 starts a new file.
func TestWriteStringValuesAndOffset(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "111", KeyFlushInterval, "60000",
		KeyTopicsMapping, "[{'topic':'testTopic','db':'testDb','table':'testTable','format':'csv'}]")
	task := startTask(t, props, fake)
	part := tp("testTopic", 11)
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	values := []string{"stringy message", "another,stringy,message", "{'also':'stringy','sortof':'message'}",
		"{'also':'stringy','sortof':'message'}", "{'also':'stringy','sortof':'message'}"}
	offsets := []int64{10, 13, 14, 15, 16}
	for i, v := range values {
		mustPut(t, task, strRecord("testTopic", 11, offsets[i], v))
	}
	eventually(t, "first file ingested", func() bool { return len(fake.snapshot()) == 1 })
	f := fake.snapshot()[0]
	if f.name != "kafka_testTopic_11_10.CSV.gz" || f.raw != 116 || !reflect.DeepEqual(f.lines, values[:4]) {
		t.Fatalf("ingested %+v", f)
	}
	if f.route.Database != "testDb" || f.route.Table != "testTable" || f.route.Format.sdk != formatCSV.sdk {
		t.Fatalf("route %+v", f.route)
	}
	eventually(t, "commit offset 16", func() bool { return preCommit(t, task)[part] == 16 })
	p := task.parts[part]
	p.mu.Lock()
	name, last := filepath.Base(p.cur.path), p.lastSeen
	p.mu.Unlock()
	if name != "kafka_testTopic_11_16.CSV.gz" || last != 16 {
		t.Fatalf("open file %s, last offset %d", name, last)
	}
}

// Ported from FileWriterTest.testGzipFileWriterFlush and offsetCheckByInterval: a file is rolled
// flush.interval.ms after its first record, not before, and the commit offset follows.
func TestTimeRoll(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushInterval, "300")
	task := startTask(t, props, fake)
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	mustPut(t, task, strRecord("topic1", 0, 1, "Message"), strRecord("topic1", 0, 2, "Second Message"))
	eventually(t, "time roll", func() bool { return len(fake.snapshot()) == 1 })
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("rolled after %s, before flush.interval.ms", waited)
	}
	f := fake.snapshot()[0]
	if f.name != "kafka_topic1_0_1.CSV.gz" || f.raw != 23 || len(f.lines) != 2 {
		t.Fatalf("first file %+v", f)
	}
	if got := preCommit(t, task); got[tp("topic1", 0)] != 3 {
		t.Fatalf("precommit %v", got)
	}
	mustPut(t, task, strRecord("topic1", 0, 3, "Third"))
	eventually(t, "second time roll", func() bool { return len(fake.snapshot()) == 2 })
	if f := fake.snapshot()[1]; f.name != "kafka_topic1_0_3.CSV.gz" || !reflect.DeepEqual(f.lines, []string{"Third"}) {
		t.Fatalf("second file %+v", f)
	}
	eventually(t, "commit 4", func() bool { return preCommit(t, task)[tp("topic1", 0)] == 4 })
	if files := spoolFiles(t, props[KeyTempDir]); len(files) != 0 {
		t.Fatalf("spool files left: %v", files)
	}
}

// Ported from TopicPartitionWriterTest.testClose (Kusto semantics): closing discards the open
// file; nothing is ingested afterwards, even past the flush interval, and nothing is committed.
func TestCloseDiscardsTheOpenFile(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushInterval, "100")
	task := startTask(t, props, fake)
	part := tp("topic1", 0)
	if err := task.Open(context.Background(), []sink.TopicPartition{part, tp("topic1", 1)}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, "a"), strRecord("topic1", 0, 1, "b"))
	if got := preCommit(t, task); len(got) != 0 {
		t.Fatalf("precommit before any ingestion = %v, want nothing", got)
	}
	if err := task.Close(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	// The file's roll stays scheduled; wait until it has fired (as a no-op).
	eventually(t, "the roll timer to fire", func() bool { return task.timers.len() == 0 })
	if n := len(fake.snapshot()); n != 0 {
		t.Fatalf("%d files ingested after close", n)
	}
	if got := preCommit(t, task); len(got) != 0 {
		t.Fatalf("precommit after close = %v", got)
	}
	if files := spoolFiles(t, props[KeyTempDir]); len(files) != 0 {
		t.Fatalf("files left after close: %v", files)
	}
	dirs, _ := filepath.Glob(filepath.Join(props[KeyTempDir], "kusto-sink-connector-*"))
	if len(dirs) != 1 {
		t.Fatalf("want only the directory of the partition still open, got %v", dirs)
	}
}

// Java defect #69 / §3.11.1: Open must keep the writers of partitions the task already holds.
func TestOpenKeepsExistingPartitions(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushInterval, "60000")
	task := startTask(t, props, fake)
	ctx := context.Background()
	if err := task.Open(ctx, []sink.TopicPartition{tp("topic1", 0)}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, "kept"))
	first := task.parts[tp("topic1", 0)]
	if err := task.Open(ctx, []sink.TopicPartition{tp("topic1", 0), tp("topic1", 1)}); err != nil {
		t.Fatal(err)
	}
	if task.parts[tp("topic1", 0)] != first {
		t.Fatal("Open replaced the writer of a partition the task already held")
	}
	if got := spoolFiles(t, props[KeyTempDir]); !reflect.DeepEqual(got, []string{"kafka_topic1_0_0.CSV.gz"}) {
		t.Fatalf("spool files %v", got)
	}
	dirs, _ := filepath.Glob(filepath.Join(props[KeyTempDir], "kusto-sink-connector-*"))
	if len(dirs) != 2 {
		t.Fatalf("want one directory per partition, got %d", len(dirs))
	}
}

func TestOpenAndPutErrorsUseJavaMessages(t *testing.T) {
	fake := &fakeIngester{}
	task := startTask(t, baseProps(t), fake)
	err := task.Open(context.Background(), []sink.TopicPartition{tp("topic3", 0)})
	if err == nil || err.Error() != "Kusto Sink has no ingestion props mapped for the topic: topic3. please check your configuration." {
		t.Fatalf("open of an unmapped topic: %v", err)
	}
	err = task.Put(context.Background(), []sink.Record{strRecord("topic2", 1, 0, "x")})
	if err == nil || err.Error() != "Received a record without a mapped writer for topic:partition(topic2:1), dropping record." {
		t.Fatalf("put for an unopened partition: %v", err)
	}
}

func TestWildcardMapping(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyTopicsMapping,
		"[{'topic':'topic1','db':'db1','table':'table1','format':'csv'},{'topic':'*','db':'dbWildcard','table':'tableWildcard','format':'json'}]",
		KeyFlushSize, "100")
	task := startTask(t, props, fake)
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0), tp("anyTopic", 0)}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("c", 120)), strRecord("anyTopic", 0, 0, `{"a":"`+strings.Repeat("j", 120)+`"}`))
	eventually(t, "two files", func() bool { return len(fake.snapshot()) == 2 })
	byTable := map[string]ingested{}
	for _, f := range fake.snapshot() {
		byTable[f.route.Table] = f
	}
	if f := byTable["table1"]; f.route.Database != "db1" || f.name != "kafka_topic1_0_0.CSV.gz" {
		t.Fatalf("explicit topic: %+v", f)
	}
	if f := byTable["tableWildcard"]; f.route.Database != "dbWildcard" || f.name != "kafka_anyTopic_0_0.MULTIJSON.gz" {
		t.Fatalf("wildcard topic: %+v", f)
	}
}

// Java defect #8: a partition that only ever sees tombstones must still commit.
func TestTombstonesAreSkippedAndCommitted(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "100", KeyFlushInterval, "60000")
	task := startTask(t, props, fake)
	part := tp("topic1", 0)
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	tomb := sink.Record{Topic: "topic1", Partition: 0, Offset: 0}
	mustPut(t, task, tomb)
	if got := preCommit(t, task)[part]; got != 1 {
		t.Fatalf("tombstone-only partition commits %d, want 1", got)
	}
	// A tombstone inside a file's range is committed with the file.
	tomb.Offset = 2
	mustPut(t, task, strRecord("topic1", 0, 1, "row"), tomb)
	if got := preCommit(t, task)[part]; got != 1 {
		t.Fatalf("commit moved past an unaccepted record: %d", got)
	}
	mustPut(t, task, strRecord("topic1", 0, 3, strings.Repeat("r", 100)))
	eventually(t, "file ingested", func() bool { return preCommit(t, task)[part] == 4 })
	if got := allLines(fake.snapshot()); len(got) != 2 || got[0] != "row" {
		t.Fatalf("lines %q", got)
	}
}

// The commit invariant under concurrency: files finish out of order and some fail first, yet
// PreCommit never returns an offset past a record Kusto has not accepted.
func TestPreCommitNeverPassesAnUnacceptedRecord(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "200", KeyFlushInterval, "100",
		KeyRetryBackoff, "5", KeyConcurrency, "4")
	task := startTask(t, props, fake)
	fake.setHook(func(call int, req *ingestRequest) error {
		time.Sleep(time.Duration(call%7) * time.Millisecond) // finish out of order
		if call%5 == 0 {
			return http429()
		}
		return nil
	})
	parts := []sink.TopicPartition{tp("topic1", 0), tp("topic1", 1)}
	if err := task.Open(context.Background(), parts); err != nil {
		t.Fatal(err)
	}
	const n = 400
	check := func() {
		committed := preCommit(t, task)
		got := map[string]bool{}
		for _, l := range allLines(fake.snapshot()) {
			got[l] = true
		}
		for _, part := range parts {
			for off := int64(0); off < committed[part]; off++ {
				if !got[fmt.Sprintf("%d-%d", part.Partition, off)] {
					t.Fatalf("commit offset %d of %s passes record %d, which Kusto has not accepted", committed[part], part, off)
				}
			}
		}
	}
	for off := int64(0); off < n; off++ {
		for _, part := range parts {
			rec := strRecord("topic1", part.Partition, off, fmt.Sprintf("%d-%d", part.Partition, off))
			for {
				err := task.Put(context.Background(), []sink.Record{rec})
				if err == nil {
					break
				}
				if !sink.IsRetriable(err) {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond) // the runtime's pause before redelivery
			}
		}
		if off%20 == 0 {
			check()
		}
	}
	eventually(t, "everything committed", func() bool {
		c := preCommit(t, task)
		return c[parts[0]] == n && c[parts[1]] == n
	})
	check()
	counts := map[string]int{}
	for _, l := range allLines(fake.snapshot()) {
		counts[l]++
	}
	if len(counts) != 2*n {
		t.Fatalf("%d distinct records ingested, want %d", len(counts), 2*n)
	}
	for l, c := range counts {
		if c != 1 {
			t.Fatalf("record %s ingested %d times", l, c)
		}
	}
}

// Ported from precommitDoesNotCommitNewerOffsets: records keep arriving while commits happen;
// PreCommit returns the accepted offset, never the runtime's, and after Close nothing more is
// ingested.
func TestPreCommitIgnoresRuntimeOffsetsAndCloseStopsIngestion(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushInterval, "100")
	task := startTask(t, props, fake)
	part := tp("topic1", 0)
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off < 50; off++ {
		mustPut(t, task, strRecord("topic1", 0, off, "r"+itoa(off)))
		got, err := task.PreCommit(context.Background(), map[sink.TopicPartition]int64{part: off + 1})
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := got[part]; ok && c > int64(len(allLines(fake.snapshot()))) {
			t.Fatalf("precommit %d with only %d records accepted", c, len(allLines(fake.snapshot())))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := task.Close(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	n := len(fake.snapshot())
	eventually(t, "every scheduled roll to fire", func() bool { return task.timers.len() == 0 })
	if len(fake.snapshot()) != n {
		t.Fatal("a file was ingested after Close")
	}
}

func TestRetriableFailuresAreRetriedWithoutLoss(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "100", KeyRetryBackoff, "20", KeyRetryMaxTime, "60000")
	task := startTask(t, props, fake)
	var failures int
	fake.setHook(func(call int, req *ingestRequest) error {
		switch {
		case call < 4:
			failures++
			return http429()
		case call < 6:
			failures++
			return &kerrors.Error{Op: kerrors.OpFileIngest, Kind: kerrors.KBlobstore, Err: errors.New("could not upload file to any container")}
		}
		return nil
	})
	part := tp("topic1", 0)
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("a", 120)))
	eventually(t, "file accepted after retries", func() bool { return preCommit(t, task)[part] == 1 })
	if f := fake.snapshot(); len(f) != 1 || f[0].lines[0] != strings.Repeat("a", 120) {
		t.Fatalf("ingested %+v", f)
	}
	if failures != 5 {
		t.Fatalf("%d failed attempts before success, want 5", failures)
	}
}

// While Kusto keeps failing, Put stops accepting records for the partition with a retriable
// error (the runtime pauses and redelivers) instead of sleeping, and nothing is committed.
func TestPutReturnsRetriableWhileKustoFails(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "100", KeyRetryBackoff, "10", KeyConcurrency, "2")
	task := startTask(t, props, fake)
	down := make(chan struct{})
	fake.setHook(func(call int, req *ingestRequest) error {
		select {
		case <-down:
			return nil
		default:
			return errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
		}
	})
	part := tp("topic1", 0)
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	var batch []sink.Record
	for off := int64(0); off < 10; off++ {
		batch = append(batch, strRecord("topic1", 0, off, strings.Repeat("b", 120)))
	}
	var err error
	eventually(t, "a retriable error from Put", func() bool {
		err = task.Put(context.Background(), batch)
		return err != nil
	})
	if !sink.IsRetriable(err) {
		t.Fatalf("want a retriable error, got %v", err)
	}
	if got := preCommit(t, task); len(got) != 0 {
		t.Fatalf("committed %v while nothing was accepted", got)
	}
	close(down) // Kusto is back: redeliver until the batch goes through
	eventually(t, "batch accepted", func() bool { return task.Put(context.Background(), batch) == nil })
	eventually(t, "all committed", func() bool { return preCommit(t, task)[part] == 10 })
	if n := len(allLines(fake.snapshot())); n != 10 {
		t.Fatalf("%d records ingested, want 10 (redelivered records must not be written twice)", n)
	}
}

func TestPermanentFailureFollowsBehaviorOnError(t *testing.T) {
	for _, behavior := range []string{"fail", "LOG", "ignore"} {
		t.Run(behavior, func(t *testing.T) {
			fake := &fakeIngester{}
			props := with(baseProps(t), KeyFlushSize, "100", KeyBehaviorOnErr, behavior)
			task := startTask(t, props, fake)
			fake.setHook(func(call int, req *ingestRequest) error {
				if call == 1 {
					return http400()
				}
				return nil
			})
			part := tp("topic1", 0)
			if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
				t.Fatal(err)
			}
			mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("p", 120)))
			if strings.EqualFold(behavior, "fail") {
				eventually(t, "task failure", func() bool { return task.failure() != nil })
				err := task.Put(context.Background(), []sink.Record{strRecord("topic1", 0, 1, "next")})
				if err == nil || sink.IsRetriable(err) || !strings.Contains(err.Error(), "Failed to write records to KustoDB.") {
					t.Fatalf("put after a permanent failure: %v", err)
				}
				if got := preCommit(t, task); len(got) != 0 {
					t.Fatalf("committed %v past a rejected file", got)
				}
				if fake.calls != 1 {
					t.Fatalf("%d attempts: a permanent failure must not be retried", fake.calls)
				}
				return
			}
			eventually(t, "rejected file skipped", func() bool { return preCommit(t, task)[part] == 1 })
			mustPut(t, task, strRecord("topic1", 0, 1, strings.Repeat("q", 120)))
			eventually(t, "next file committed", func() bool { return preCommit(t, task)[part] == 2 })
			if got := allLines(fake.snapshot()); len(got) != 1 || got[0][0] != 'q' {
				t.Fatalf("ingested %q", got)
			}
		})
	}
}

// Refused credentials or permissions are not bad data: under every behavior.on.error the task
// fails at once, skips nothing, and says which identity was refused without showing a secret.
func TestRefusalsFailTheTaskUnderEveryBehavior(t *testing.T) {
	refusals := map[string]error{
		"engine 401": kerrors.HTTP(kerrors.OpMgmt, "401 Unauthorized", http.StatusUnauthorized,
			nopBody(`{"error":{"code":"Unauthorized","message":"The caller is not authenticated."}}`), "error from Kusto endpoint"),
		"engine 403, flattened": errors.New("problem getting authorization context from Kusto via Mgmt: error from Kusto endpoint, " +
			"With query: .get kusto identity token(403 Forbidden):\n{\"error\":{\"code\":\"Forbidden\"}}"),
		"storage 403": storageErr(http.StatusForbidden, "AuthorizationFailure"),
		// The identity provider's answer may echo what it was sent; the secret must not survive.
		"token": tokenErr("ClientSecretCredential authentication failed.\nPOST https://login.example/tenant/oauth2/v2.0/token\n" +
			"RESPONSE 401: 401 Unauthorized\n{\"error\":\"invalid_client\",\"sent\":\"client_secret=some-appkey\", \"again\":\"some-appkey\"}"),
	}
	for name, refusal := range refusals {
		for _, behavior := range []string{"fail", "log", "IGNORE"} {
			t.Run(name+"/"+behavior, func(t *testing.T) {
				fake := &fakeIngester{}
				props := with(baseProps(t), KeyFlushSize, "100", KeyBehaviorOnErr, behavior, KeyRetryBackoff, "5")
				task := startTask(t, props, fake)
				fake.setHook(func(int, *ingestRequest) error { return refusal })
				part := tp("topic1", 0)
				if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
					t.Fatal(err)
				}
				mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("r", 120)))
				eventually(t, "task failure", func() bool { return task.failure() != nil })
				err := task.Put(context.Background(), []sink.Record{strRecord("topic1", 0, 1, "next")})
				if err == nil || sink.IsRetriable(err) {
					t.Fatalf("put after a refusal: %v", err)
				}
				msg := err.Error()
				for _, want := range []string{
					"Failed to write records to KustoDB. Kusto or its storage refused the sink's credentials or permissions " +
						"(identity: aad.auth.strategy=application, aad.auth.appid=some-appid, aad.auth.authority=some-authority).",
					"may ingest into database db1", "The task stops under every behavior.on.error setting",
					"kafka_topic1_0_0.CSV.gz (topic1-0, offsets 0-0) was not ingested",
				} {
					if !strings.Contains(msg, want) {
						t.Errorf("failure lacks %q:\n%s", want, msg)
					}
				}
				if strings.Contains(msg, "some-appkey") {
					t.Errorf("failure shows the app key:\n%s", msg)
				}
				if got := preCommit(t, task); len(got) != 0 {
					t.Fatalf("committed %v past a refused file", got)
				}
				fake.mu.Lock()
				calls := fake.calls
				fake.mu.Unlock()
				if calls != 1 {
					t.Fatalf("%d attempts: a refusal fails at once", calls)
				}
				if files := spoolFiles(t, props[KeyTempDir]); len(files) != 1 {
					t.Fatalf("the refused file must be kept until the partition closes: %v", files)
				}
			})
		}
	}
}

func TestUntrustedEndpointFailsTheTaskWithAHint(t *testing.T) {
	fake := &fakeIngester{}
	task := startTask(t, with(baseProps(t), KeyFlushSize, "100", KeyBehaviorOnErr, "log"), fake)
	fake.setHook(func(int, *ingestRequest) error {
		return kerrors.ES(kerrors.OpMgmt, kerrors.KClientArgs, "could not validate endpoint: Can't communicate with 'kusto.corp' as "+
			"this hostname is currently not trusted; please see https://aka.ms/kustotrustedendpoints.").SetNoRetry()
	})
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("u", 120)))
	eventually(t, "task failure", func() bool { return task.failure() != nil })
	if msg := task.failure().Error(); !strings.Contains(msg, "is not a known Kusto endpoint") || !strings.Contains(msg, "list it in kusto.trusted.hosts") {
		t.Fatalf("failure %v", msg)
	}
}

func TestRetryBudgetExhausted(t *testing.T) {
	t.Run("fail stops the task", func(t *testing.T) {
		fake := &fakeIngester{}
		props := with(baseProps(t), KeyFlushSize, "100", KeyRetryBackoff, "10", KeyRetryMaxTime, "50")
		task := startTask(t, props, fake)
		fake.setHook(func(int, *ingestRequest) error { return http429() })
		if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("e", 120)))
		eventually(t, "task failure", func() bool { return task.failure() != nil })
		if err := task.failure(); !strings.Contains(err.Error(), "Retry attempts exhausted, failed to ingest records into KustoDB.") {
			t.Fatalf("failure %v", err)
		}
		if got := preCommit(t, task); len(got) != 0 {
			t.Fatalf("committed %v", got)
		}
	})
	t.Run("log keeps retrying and loses nothing", func(t *testing.T) {
		fake := &fakeIngester{}
		props := with(baseProps(t), KeyFlushSize, "100", KeyRetryBackoff, "5", KeyRetryMaxTime, "20", KeyBehaviorOnErr, "log")
		task := startTask(t, props, fake)
		fake.setHook(func(call int, _ *ingestRequest) error {
			if call < 7 {
				return http429()
			}
			return nil
		})
		part := tp("topic1", 0)
		if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("l", 120)))
		eventually(t, "accepted at last", func() bool { return preCommit(t, task)[part] == 1 })
		if task.failure() != nil || len(fake.snapshot()) != 1 {
			t.Fatalf("failure %v, files %d", task.failure(), len(fake.snapshot()))
		}
	})
}

func TestRecordErrorsFollowBehaviorOnError(t *testing.T) {
	structVal := sink.NewStruct(&sink.Schema{Type: sink.Struct, Fields: []sink.Field{{Name: "a", Index: 0, Schema: &sink.Schema{Type: sink.Int32}}}})
	structVal.Values[0] = int32(1)
	bad := sink.Record{Topic: "topic1", Partition: 0, Offset: 0, ValueSchema: structVal.Schema, Value: structVal}
	t.Run("fail", func(t *testing.T) {
		task := startTask(t, baseProps(t), &fakeIngester{})
		if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
			t.Fatal(err)
		}
		err := task.Put(context.Background(), []sink.Record{bad})
		if err == nil || !strings.Contains(err.Error(), "Invalid Kusto table mapping, Kafka records of type Avro and JSON can only be ingested to Kusto table having Avro or JSON mapping. Currently, it is of type CSV.") {
			t.Fatalf("put: %v", err)
		}
	})
	t.Run("log", func(t *testing.T) {
		fake := &fakeIngester{}
		task := startTask(t, with(baseProps(t), KeyBehaviorOnErr, "LOG", KeyFlushSize, "100"), fake)
		part := tp("topic1", 0)
		if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, task, bad)
		if got := preCommit(t, task)[part]; got != 1 {
			t.Fatalf("skipped record not committed: %d", got)
		}
		mustPut(t, task, strRecord("topic1", 0, 1, strings.Repeat("z", 120)))
		eventually(t, "next record", func() bool { return preCommit(t, task)[part] == 2 })
	})
}

// Stop closes everything: no directory, file or goroutine of the task survives it.
func TestStopReleasesEverything(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "100")
	task := startTask(t, props, fake)
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0), tp("topic2", 3)}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, "open"), strRecord("topic2", 3, 7, `{"x":1}`))
	if err := task.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := task.Stop(context.Background()); err != nil {
		t.Fatal("second Stop:", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(props[KeyTempDir], "kusto-sink-connector-*"))
	if len(dirs) != 0 {
		t.Fatalf("directories left: %v", dirs)
	}
	if fake.closed != 1 {
		t.Fatalf("ingester closed %d times", fake.closed)
	}
	select {
	case <-task.timers.done:
	default:
		t.Fatal("timer goroutine still running")
	}
	if err := task.pipe.stop(context.Background()); err != nil {
		t.Fatal("workers still running:", err)
	}
}

func TestStartSweepsOrphanedDirectories(t *testing.T) {
	props := baseProps(t)
	orphan := filepath.Join(props[KeyTempDir], "kusto-sink-connector-11111111-2222-3333-4444-555555555555")
	if err := os.MkdirAll(orphan, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan, "kafka_topic1_0_5.CSV.gz"), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := startTask(t, props, &fakeIngester{})
	if err := live.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphan directory survived task start: %v", err)
	}
	livePath := live.parts[tp("topic1", 0)].dir.Path()
	startTask(t, props, &fakeIngester{}) // a second task on the same temp dir
	if _, err := os.Stat(livePath); err != nil {
		t.Fatalf("a second task swept the first task's live directory: %v", err)
	}
}

func TestSpoolFilesAreOwnerOnly(t *testing.T) {
	props := with(baseProps(t), KeyFlushInterval, "60000")
	task := startTask(t, props, &fakeIngester{})
	if err := task.Open(context.Background(), []sink.TopicPartition{tp("topic1", 0)}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 42, "x"))
	p := task.parts[tp("topic1", 0)]
	st, err := os.Stat(p.cur.path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("spool file mode %v", st.Mode().Perm())
	}
	if filepath.Dir(p.cur.path) != p.dir.Path() || !strings.HasPrefix(filepath.Base(p.dir.Path()), "kusto-sink-connector-") {
		t.Fatalf("spool file %s", p.cur.path)
	}
}

// When uploads are slow but healthy, Put waits for room for a while, then hands control back to
// the runtime with a retriable error rather than blocking past the consumer's poll interval.
func TestPutWaitsForSlowUploadsThenReturnsRetriable(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "100", KeyConcurrency, "2")
	release := make(chan struct{})
	fake.setHook(func(int, *ingestRequest) error { <-release; return nil })
	task := NewTask()
	task.putWait = 50 * time.Millisecond
	fake.t = t
	task.newIngester = func(*Config, *slog.Logger) (ingester, error) { return fake, nil }
	if err := task.Start(context.Background(), &fakeContext{}, props); err != nil {
		t.Fatal(err)
	}
	defer task.Stop(context.Background())
	defer close(release)
	part := tp("topic1", 0)
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("s", 120)), strRecord("topic1", 0, 1, strings.Repeat("s", 120)))
	start := time.Now()
	err := task.Put(context.Background(), []sink.Record{strRecord("topic1", 0, 2, "third")})
	if !sink.IsRetriable(err) || !strings.Contains(err.Error(), "still being ingested") {
		t.Fatalf("put with 2 files in flight: %v", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("returned after %s, before waiting for room", waited)
	}
	tc := task.tc.(*fakeContext)
	if len(tc.timeouts) != 1 || tc.timeouts[0] != 10*time.Second {
		t.Fatalf("the runtime must be told when to redeliver: %v", tc.timeouts)
	}
}

// Closing a partition cancels its uploads in flight: their results are ignored, nothing more is
// committed, and the directory goes even while an upload still holds its file.
func TestCloseCancelsUploadsInFlight(t *testing.T) {
	fake := &fakeIngester{}
	props := with(baseProps(t), KeyFlushSize, "100")
	task := startTask(t, props, fake)
	started, cancelled := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fake.hookCtx = func(ctx context.Context) error {
		once.Do(func() { close(started) })
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}
	part := tp("topic1", 0)
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, task, strRecord("topic1", 0, 0, strings.Repeat("u", 120)))
	<-started
	dir := task.parts[part].dir.Path()
	if err := task.Close(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upload was not cancelled by Close")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory of the closed partition: %v", err)
	}
	fake.hookCtx = nil
	if err := task.Open(context.Background(), []sink.TopicPartition{part}); err != nil {
		t.Fatal(err)
	}
	if got := preCommit(t, task); len(got) != 0 {
		t.Fatalf("a reopened partition starts with nothing to commit, got %v", got)
	}
	if len(fake.snapshot()) != 0 {
		t.Fatal("the cancelled upload was recorded as ingested")
	}
}
