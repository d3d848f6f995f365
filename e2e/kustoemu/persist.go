package kustoemu

import (
	"log/slog"
	"sync"
	"time"

	"github.com/kconnect/kconnect/e2e/kustoemu/internal/model"
)

// persister writes the cluster's snapshot to a file after changes, debounced: the first change
// arms a timer and every change until it fires is written together. A snapshot holds the whole
// state, so the wait grows with the time the last write took (at least four times as long),
// keeping persistence under about a fifth of a core however large the state gets. Close writes a
// final snapshot.
type persister struct {
	cluster *model.Cluster
	path    string
	delay   time.Duration
	log     *slog.Logger

	changed chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	err     error
	// lastWrite is how long the last snapshot took; only the run goroutine touches it.
	lastWrite time.Duration
}

func startPersister(c *model.Cluster, path string, delay time.Duration, log *slog.Logger) *persister {
	p := &persister{cluster: c, path: path, delay: delay, log: log,
		changed: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	c.OnChange(p.notify)
	go p.run()
	return p
}

// notify is the cluster's change hook; it never blocks.
func (p *persister) notify() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *persister) run() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-p.changed:
		}
		t := time.NewTimer(max(p.delay, 4*p.lastWrite))
		select {
		case <-p.stop:
			t.Stop()
			return
		case <-t.C:
		}
		p.save()
	}
}

func (p *persister) save() error {
	start := time.Now()
	if err := p.cluster.SaveFile(p.path); err != nil {
		p.log.Error("saving state failed", "path", p.path, "error", err)
		return err
	}
	p.lastWrite = time.Since(start)
	p.log.Debug("state saved", "path", p.path, "took", p.lastWrite)
	return nil
}

// Close stops the persister and writes the final snapshot.
func (p *persister) Close() error {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		p.err = p.save()
	})
	return p.err
}
