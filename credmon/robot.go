package credmon

// The loop's side of robot tokens: a self-describing .top
// (credfile.ParseRobotTop) without .meta, under a name credd's CredSorter
// gives to OAuth2, Vault or no type, is a robot token (credfile.KindRobot).
// The listing reads such a .top once per version (scan.go listUser);
// classify (cred.go) makes it a robot token; decide (decide.go) leaves it
// alone, with one line per .top version, unless <NAME>_TRUSTED_ISSUERS
// lists its iss; the worker is worker_robot.go.

import (
	"errors"

	"github.com/credmon/credmon/credmon/credfile"
	"github.com/credmon/credmon/internal/atomicfile"
)

// robotState is what the loop knows of a token's .top as a robot one.
type robotState struct {
	// checked is the .top version last read for it; content: that .top
	// is self-describing (usable or not: err); noMeta: the token has no
	// .meta (with one, the web app's client wins: OAuth2).
	checked atomicfile.ID
	content bool
	noMeta  bool
	iss     string
	err     error
	// noted is the worker's note last logged (once, at debug level).
	noted string
}

// robotCandidate reports whether a .top under a name of kind k may be a
// robot's, so the listing reads it: the kinds a robot .top takes over.
func robotCandidate(k credfile.Kind) bool {
	return k == credfile.KindOAuth2 || k == credfile.KindUnknown || k == credfile.KindVault || k == credfile.KindRobot
}

// readRobot records in o what the .top b says as a robot .top.
func (o *tokenObs) readRobot(b []byte) {
	o.robotRead = true
	t, err := credfile.ParseRobotTop(b)
	o.robotTop = !errors.Is(err, credfile.ErrNotRobotTop)
	if t != nil {
		o.robotIss = t.Issuer
	}
	if o.robotTop {
		o.robotErr = err
	}
}

// noteRobot takes in what the listing saw of c as a robot token and
// reports whether that changes c's type (classify again).
func (c *cred) noteRobot(o *tokenObs) bool {
	was := c.robot.content && c.robot.noMeta
	c.robot.noMeta = o.meta == nil
	if o.robotRead && o.top.ID() != c.robot.checked {
		c.robot.checked = o.top.ID()
		c.robot.content, c.robot.iss, c.robot.err = o.robotTop, o.robotIss, o.robotErr
		if c.robot.content {
			// A new .top: whatever it is refused for is said once more.
			c.status = ""
		}
	}
	return was != (c.robot.content && c.robot.noMeta)
}

// robotView is the configuration as it applies to a robot token: why it
// is not refreshed, for decide.
func (m *Monitor) robotView(c *cred, cv *configView) {
	cv.robotErr = c.robot.err
	if c.robot.err == nil && !m.cfg.TrustedIssuer(c.robot.iss) {
		cv.robotUntrusted, cv.robotKnob = c.robot.iss, trustedIssuersKnob(m.cfg.Name)
	}
}

// noteRobotResult takes in what a robot job learned (loop goroutine).
func (m *Monitor) noteRobotResult(c *cred, r *result) {
	if r.outcome == outOK && r.rotated && c.robot.checked == c.seen.top {
		// Our own rewrite changed only the refresh token.
		c.robot.checked = r.top
	}
	if r.robotNote != "" && r.robotNote != c.robot.noted {
		c.robot.noted = r.robotNote
		c.logger().Debug(r.robotNote)
	}
}
