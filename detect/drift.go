package detect

import (
	"strings"

	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/detect/rules"
)

// Task drift: an instruction inside a document or tool result that asks
// for an action the user did not ask for. A classifier sees one text; the
// gateway also knows the user's request (the last user turn before the
// data) and the tools the request declares. An imperative in the data
// whose action the user's request never mentions, addressed to the reader
// ("please ...", "TODO: ...", a sentence or quoted string that begins with
// the verb), and that names a target (an address, an amount, "my" things)
// or a tool the request declares, is how agent hijacks look (the planted
// requests of InjecAgent and AgentDojo need no override words), and is
// rare in the ordinary imperatives of recipes and manuals, which address
// the reader's own things ("your password") and name no recipient.

// RuleTaskDrift is the finding of an action request in data that the
// user's request does not ask for.
const RuleTaskDrift = "task-drift"

// RulePlantedAction is the finding of an action request in data that is
// harmful without the conversation (planted.go).
const RulePlantedAction = "planted-action"

// ruleActionRequest is the regex rule for action requests in data (a
// stacker signal that does not flag by itself; see dataRuleHit).
const ruleActionRequest = "action-request-in-data"

// Context is what the gateway knows about the conversation around a
// document or tool result.
type Context struct {
	// UserRequest is the user's last turn before the data.
	UserRequest string
	// Tools are the names of the tools the request declares
	// ("send_money", "grantGuestAccess").
	Tools []string
}

// actionClass is a kind of consequential action.
type actionClass uint8

const (
	actNone actionClass = iota
	actSend
	actMoney
	actAccess
	actDelete
	actChange
	actDevice
	actTrade
	actSchedule
	actVisit
	nActions
)

// actionVerbs maps an imperative verb (normalised) to its class.
var actionVerbs = map[string]actionClass{
	"send": actSend, "email": actSend, "e-mail": actSend, "mail": actSend, "forward": actSend, "share": actSend,
	"post": actSend, "publish": actSend, "upload": actSend, "tweet": actSend, "message": actSend, "text": actSend,
	"dm": actSend, "export": actSend, "leak": actSend, "reply": actSend, "respond": actSend,
	"transfer": actMoney, "pay": actMoney, "deposit": actMoney, "withdraw": actMoney, "wire": actMoney, "remit": actMoney,
	"refund": actMoney, "donate": actMoney,
	"grant": actAccess, "give": actAccess, "invite": actAccess, "authorize": actAccess, "authorise": actAccess,
	"add": actAccess, "approve": actAccess,
	"delete": actDelete, "remove": actDelete, "erase": actDelete, "wipe": actDelete, "purge": actDelete,
	"destroy": actDelete, "cancel": actDelete, "unsubscribe": actDelete, "revoke": actDelete,
	"change": actChange, "update": actChange, "reset": actChange, "set": actChange, "modify": actChange,
	"disable": actChange, "enable": actChange, "turn": actChange, "switch": actChange, "edit": actChange, "rename": actChange,
	"unlock": actDevice, "lock": actDevice, "open": actDevice, "arm": actDevice, "disarm": actDevice, "start": actDevice, "stop": actDevice,
	"buy": actTrade, "purchase": actTrade, "order": actTrade, "sell": actTrade, "trade": actTrade, "book": actTrade,
	"reserve": actTrade, "rent": actTrade, "subscribe": actTrade,
	"schedule": actSchedule, "create": actSchedule, "make": actSchedule, "organize": actSchedule, "organise": actSchedule,
	"visit": actVisit, "go": actVisit, "navigate": actVisit, "browse": actVisit, "click": actVisit, "download": actVisit,
	"install": actVisit, "run": actVisit, "execute": actVisit, "follow": actVisit,
}

// userStems are the verb stems by which a user's request asks for an
// action of a class (any inflection, any position). Nouns do not count:
// "show my transactions" does not ask for a transfer.
var userStems = [nActions][]string{
	actSend:     {"send", "sent", "email", "e-mail", "mail", "forward", "share", "post", "publish", "upload", "tweet", "messag", "text", "repl", "respond", "export", "dm", "notif", "tell", "contact", "write"},
	actMoney:    {"transfer", "pay", "paid", "deposit", "withdr", "wire", "remit", "refund", "donat"},
	actAccess:   {"grant", "give", "invite", "authori", "add", "approv"},
	actDelete:   {"delet", "remov", "eras", "wipe", "purg", "destroy", "cancel", "unsubscrib", "revok", "clean"},
	actChange:   {"chang", "updat", "reset", "set", "modif", "disabl", "enabl", "turn", "switch", "edit", "renam", "adjust"},
	actDevice:   {"unlock", "open", "arm", "disarm", "start", "stop"},
	actTrade:    {"buy", "bought", "purchas", "order", "sell", "sold", "trade", "book", "reserv", "rent", "subscri"},
	actSchedule: {"schedul", "creat", "make", "organi", "plan", "set up", "arrang"},
	actVisit:    {"visit", "go", "navigat", "brows", "click", "download", "install", "run", "execut", "follow", "open", "setup", "configur", "build", "deploy", "start"},
}

// leadWords may precede an imperative addressed to the reader.
var leadWords = map[string]bool{"please": true, "kindly": true, "todo": true, "also": true, "then": true,
	"immediately": true, "first": true, "now": true, "urgently": true}

// driftCandidate is one imperative action request found in data.
type driftCandidate struct {
	class      actionClass
	start, end int // byte span in the normalised text
	addressed  bool
	target     bool
	tool       bool
}

// sentenceBreak reports whether the bytes between two words end a sentence
// (a ";" too).
func sentenceBreak(gap string) bool { return gapBreak(gap, true) }

// gapBreak reports whether the bytes between two words end a sentence: a
// "." only when a space follows it (" .env", "~/.ssh" do not end one), an
// escaped newline in JSON, and ";" if semi.
func gapBreak(gap string, semi bool) bool {
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case '!', '?', '\n':
			return true
		case ';':
			if semi {
				return true
			}
		case '.':
			if i+1 < len(gap) {
				return true
			}
		case '\\':
			if i+1 < len(gap) && gap[i+1] == 'n' {
				return true // an escaped newline in JSON
			}
		}
	}
	return false
}

// jsonEscape: the letter after a backslash that makes a JSON escape of a
// line break or tab.
func jsonEscape(c byte) bool { return c == 'n' || c == 'r' || c == 't' }

// words returns the byte spans of the words of s: runs of letters, digits
// and the characters that belong inside addresses and amounts.
func words(s string, out [][2]int) [][2]int {
	st := -1
	for i := 0; i <= len(s); i++ {
		in := i < len(s) && (isWordChar(s[i]) || (st >= 0 && (s[i] == '\'' || s[i] == '-' || s[i] == '@' || s[i] == '.' && i+1 < len(s) && isWordChar(s[i+1]))))
		if i > 0 && i < len(s) && s[i-1] == '\\' && jsonEscape(s[i]) {
			in = false // "\nturn off …" in a JSON string: the n is the newline
		}
		if i > 0 && i+4 < len(s) && s[i-1] == '\\' && s[i] == 'u' && isHex4(s[i+1:i+5]) {
			// "\u003eemail …": a JSON-escaped tag is no part of a word
			if st >= 0 {
				out = append(out, [2]int{st, i - 1})
				st = -1
			}
			i += 4
			continue
		}
		switch {
		case in && st < 0:
			st = i
		case !in && st >= 0:
			out = append(out, [2]int{st, i})
			st = -1
		}
	}
	return out
}

// isHex4: four lower-case hex digits (a JSON \u escape's).
func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80 || c == '$' || c == '@'
}

// splitIdent splits a tool name (snake_case, camelCase, kebab-case,
// dotted) into lower-case words.
func splitIdent(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 {
				flush()
			}
			b.WriteRune(r + 'a' - 'A')
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// ScanContext is Scan with what the gateway knows about the conversation:
// for a document or tool result, an action request the user's request does
// not ask for (see Context) is a high-severity finding that flags the text.
// For other roles, or a nil ctx, it is Scan.
func (d *Detector) ScanContext(text string, role Role, ctx *Context) Result {
	res := d.Scan(text, role)
	if ctx == nil || !role.Untrusted() || res.Flagged {
		return res
	}
	// the whole text, in the windows Scan uses (overlapping, so that a
	// request is never cut in two and lost): not only the first window
	eachWindow(text, d.opt.MaxScanBytes, func(_, runes int, win string) bool {
		nt := normalize.Normalize(win, normOpts)
		a, z, _, ok := plantedCheck(nt.Norm, ctx)
		if ok {
			s, e := nt.OrigSpan(a, z)
			res.Flagged = true
			res.Findings = append(res.Findings, Finding{Rule: RuleTaskDrift, Severity: rules.High, Score: res.Score, Start: runes + s, End: runes + e,
				Message: "instruction in data asks for an action the user's request does not (task drift)"})
		}
		return !ok
	})
	return res
}
