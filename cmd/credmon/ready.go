package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/internal/ready"
)

// inheritedMaster reads what condor_master handed us (CONDOR_INHERIT,
// CONDOR_PRIVATE_INHERIT) and removes both variables, as daemon_core does,
// so that no helper we run (condor_config_val) inherits the session key.
func inheritedMaster() (*ready.Master, error) {
	m, err := ready.FromEnv(os.Getenv)
	os.Unsetenv(ready.EnvInherit)
	os.Unsetenv(ready.EnvPrivateInherit)
	return m, err
}

// readyRetries are the waits before the second and third DC_SET_READY
// attempts: enough for a busy master, few enough that a daemon whose
// master is gone stops trying soon.
var readyRetries = []time.Duration{1 * time.Second, 4 * time.Second}

// announcer tells condor_master "Ready" (DC_SET_READY) once per process,
// after the first completed pass, in the background. The master keeps the
// state until the process exits or is restarted (ready_command_handler,
// daemon::Exited), so a SIGHUP's pass sends nothing again; a restarted
// credmon is a new process and sends again. A failure is a warning: the
// daemon's work does not depend on it.
type announcer struct {
	ctx    context.Context
	master *ready.Master // nil: nothing to send
	ad     ready.ReadyAd
	log    hclog.Logger
	once   sync.Once
}

func newAnnouncer(ctx context.Context, name string, master *ready.Master, envErr error, log hclog.Logger) *announcer {
	a := &announcer{ctx: ctx, master: master, log: log, ad: ready.ReadyAd{PID: os.Getpid(), Name: name, State: "Ready"}}
	switch {
	case errors.Is(envErr, ready.ErrNoInherit):
		log.Debug("not started by condor_master (no CONDOR_INHERIT): not sending DC_SET_READY")
	case envErr != nil:
		log.Warn(fmt.Sprintf("cannot send DC_SET_READY to condor_master; condor_who will show %s in state Startup", name),
			"reason", envErr)
	default:
		master.ClientName = name
	}
	return a
}

// passDone is credmon.Options.OnComplete: it never blocks the loop.
func (a *announcer) passDone() {
	if a.master == nil {
		return
	}
	a.once.Do(func() { go a.send() })
}

func (a *announcer) send() {
	a.log.Info("Sending DC_SET_READY message to master", "master", a.master.Addr.String())
	var err error
	for i := 0; ; i++ {
		if err = a.master.SetReady(a.ctx, a.ad); err == nil {
			a.log.Info(fmt.Sprintf("sent DC_SET_READY (%s, pid %d) to master", a.ad.State, a.ad.PID))
			return
		}
		if a.ctx.Err() != nil || errors.Is(err, ready.ErrNoSession) || i == len(readyRetries) {
			break
		}
		a.log.Debug("DC_SET_READY failed; retrying", "error", err, "in", readyRetries[i])
		select {
		case <-a.ctx.Done():
		case <-time.After(readyRetries[i]):
		}
	}
	if a.ctx.Err() == nil {
		a.log.Warn("Could not send DC_SET_READY message to master", "error", err)
	}
}
