package credmon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/atomicfile"
)

// watcher turns fsnotify events into "user X changed" signals. Events only
// wake the reconciler; the periodic full pass is the source of truth
// (fsnotify can overflow, miss NFS changes, or fail to add a watch).
type watcher struct {
	w        *fsnotify.Watcher
	root     string
	dirty    chan<- change
	overflow *atomic.Bool
	rescan   func()
	log      hclog.Logger

	mu      sync.Mutex
	watched map[string]bool // user dirs with a watch
	addErr  bool            // a watch could not be added (logged once)
}

func newWatcher(root string, dirty chan<- change, overflow *atomic.Bool, rescan func(), log hclog.Logger) (*watcher, error) {
	// A generous buffer absorbs bursts (1,000 users submitting at once)
	// without relying on the kernel queue alone.
	fw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return nil, err
	}
	if err := fw.Add(root); err != nil {
		fw.Close()
		return nil, err
	}
	return &watcher{w: fw, root: filepath.Clean(root), dirty: dirty, overflow: overflow, rescan: rescan,
		log: log, watched: map[string]bool{}}, nil
}

// Run delivers signals until ctx is done, then closes the watcher.
func (w *watcher) Run(ctx context.Context) {
	defer w.w.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			w.handle(ev)
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.log.Warn("file event queue overflowed; rescanning everything")
				w.overflow.Store(true)
				w.rescan()
				continue
			}
			w.log.Warn("file watch error", "error", err)
		}
	}
}

func (w *watcher) handle(ev fsnotify.Event) {
	if ev.Op == fsnotify.Chmod {
		return // chmod/chown do not change a credential
	}
	dir, base := filepath.Split(ev.Name)
	dir = filepath.Clean(dir)
	switch {
	case dir == w.root:
		// A user directory appeared or went away. Key files, pid and
		// CREDMON_COMPLETE need no immediate work.
		if credfile.OkayForFilename(base) && !credfile.IsKeyFile(base) &&
			base != credfile.PidFile && base != credfile.CompleteFile && !atomicfile.IsTemp(base) {
			if ev.Has(fsnotify.Create) {
				// Watch a new user directory before anyone reads it, so
				// a .top written right after mkdir (credd) is not missed.
				w.addUser(base)
			}
			w.signal(change{user: base})
		}
	case filepath.Dir(dir) == w.root:
		if _, _, ok := credfile.TokenFile(base); ok {
			c := change{user: filepath.Base(dir), file: base}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				c.gone = true
			}
			w.signal(c)
		}
	}
}

// change is one fsnotify signal: something happened to user's directory
// (file "") or to one token file in it.
type change struct {
	user, file string
	gone       bool // the file was removed or renamed away
}

func (w *watcher) signal(c change) {
	select {
	case w.dirty <- c:
	default:
		// The reconciler is behind; one full pass replaces the lost signals.
		w.overflow.Store(true)
		w.rescan()
	}
}

// addUser watches a newly created user directory. Failures (it was not a
// directory, it is gone again, inotify limits) are left to sync, which runs
// at every full pass.
func (w *watcher) addUser(u string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watched[u] {
		return
	}
	p := filepath.Join(w.root, u)
	if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
		return
	}
	if err := w.w.Add(p); err == nil {
		w.watched[u] = true
	}
}

// sync makes the set of watched user directories match a full listing:
// add watches for new users, forget removed ones (inotify drops the watch
// of a deleted directory by itself).
func (w *watcher) sync(users map[string]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for u := range users {
		if w.watched[u] {
			continue
		}
		if err := w.w.Add(filepath.Join(w.root, u)); err != nil {
			if !w.addErr {
				w.addErr = true
				hint := ""
				if strings.Contains(err.Error(), "no space left") || strings.Contains(err.Error(), "too many") {
					hint = " (raise fs.inotify.max_user_watches)"
				}
				w.log.Warn("cannot watch a user directory; changes there are seen at the next periodic scan"+hint, "user", u, "error", err)
			}
			continue
		}
		w.watched[u] = true
	}
	for u := range w.watched {
		if _, ok := users[u]; !ok {
			_ = w.w.Remove(filepath.Join(w.root, u))
			delete(w.watched, u)
		}
	}
}
