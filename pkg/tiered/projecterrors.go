package tiered

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/silt-io/silt/pkg/diskspace"
)

// projectErrors collects the projects whose background work failed in one
// round, so the round goes on with the others: one project's damaged
// stream or bad event never stops another's rotation, compaction or
// retention.
type projectErrors struct {
	log    *slog.Logger
	work   string
	failed map[string]bool
	errs   []error
}

func newProjectErrors(log *slog.Logger, work string) *projectErrors {
	return &projectErrors{log: log, work: work, failed: map[string]bool{}}
}

// fail records that project's work failed with err, and logs it.
func (p *projectErrors) fail(project string, err error) {
	if p.failed[project] {
		return
	}
	p.failed[project] = true
	p.errs = append(p.errs, fmt.Errorf("%s of project %s: %w", p.work, project, err))
	if diskspace.IsFull(err) {
		p.log.Warn("history: "+p.work+" of a project postponed: disk full", "project", project, "err", err)
		return
	}
	p.log.Error("history: "+p.work+" of a project failed; the others go on", "project", project, "err", err)
}

// has reports whether project failed.
func (p *projectErrors) has(project string) bool { return p.failed[project] }

// err joins the failures (nil if none).
func (p *projectErrors) err() error { return errors.Join(p.errs...) }
