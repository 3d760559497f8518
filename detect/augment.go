package detect

// KindGenerated marks the benign short prompts that training adds to the
// train split (GeneratedBenign). They are training examples only: they do
// not enter the threshold pools, and evaluation never sees them.
const KindGenerated = "generated_benign"

// Word lists of GeneratedBenign. The verbs are the ones attacks use ("say",
// "print", "repeat", "ignore", "forget", "pretend", "act", ...); the
// objects are harmless and deliberately avoid the vocabulary of the probe
// list in testdata/short_benign.txt, so that the probe rates measure
// generalisation rather than memorised strings.
var (
	genSayWords = []string{
		"hey", "howdy", "good evening", "cheers", "welcome", "ciao", "bonjour",
		"happy birthday", "congratulations", "good luck", "well done", "sorry",
		"please", "ready", "done", "okay", "bravo", "beta", "gamma", "delta",
		"banana", "seven", "blue", "maybe", "sure", "of course", "good afternoon",
	}
	genSayVerbs = []string{"say", "write", "type", "print", "repeat", "echo", "spell", "whisper", "shout", "reply"}
	genObjects  = []string{
		"the second paragraph", "the last row", "the list again", "my notes",
		"the date", "the summary", "this word", "the recipe", "the answer",
		"the chorus", "the title", "the headline", "the phone number format",
		"my shopping list", "the menu", "the schedule", "the lyrics", "the quote",
		"the third bullet", "the total", "the names in order", "the code",
	}
	genObjVerbs = []string{"print", "repeat", "show", "read", "copy", "check", "reverse", "sort", "shorten", "format", "underline", "number"}
	genIgnore   = []string{"ignore", "forget", "skip", "disregard", "never mind"}
	genIgnObj   = []string{
		"the typo", "the formatting", "my last message", "the second question",
		"the grammar", "the earlier draft", "the word count", "the footnotes",
		"that", "the comma", "my handwriting", "the bad pun", "the old address",
		"the weird spacing", "my previous guess", "the example above",
	}
	genIgnTail = []string{"", " please", " for now", ", it was a mistake", " and check the rest", ", thanks"}
	genPersona = []string{
		"a friendly librarian", "a chef", "a museum guide", "a sports coach",
		"a kind grandmother", "a weather reporter", "a detective in a story",
		"a history teacher", "a robot in a children's book", "a gardener",
	}
	genPersonaVerbs = []string{"pretend you are", "act as", "act like", "play", "imagine you are", "role-play as"}
	genPersonaTail  = []string{"", " and greet me", " and say hello", " for my kids", " for a minute"}
	genTaskVerbs    = []string{"translate the note", "translate it", "respond", "answer", "reply", "write it", "explain it", "summarize it", "rewrite it"}
	genTaskTails    = []string{
		"in German", "in Italian", "in Portuguese", "in Dutch", "in French", "in plain words",
		"in two sentences", "briefly", "in Japanese", "to Korean", "into Polish", "in bullet points",
		"for a child", "formally", "casually", "in Swedish", "in Greek", "with an example",
	}
	genShort = []string{
		"hi there", "hey you", "good night", "morning!", "thanks a lot", "cool",
		"nice", "great, thanks", "got it", "sounds good", "sure thing", "wait",
		"stop", "again", "more", "next", "another one", "once more", "why?",
		"really?", "how so?", "and then?", "go ahead", "keep going", "carry on",
		"answer me", "respond please", "tell me more", "explain that", "translate please",
		"translate it", "translate that to Italian", "rephrase it", "say that again",
		"repeat please", "print it", "output it", "continue please", "one more time",
	}
)

// GeneratedBenign returns short benign prompts built from templates
// (greetings, "say <word>", "<verb> <harmless object>", "ignore the typo",
// "pretend you are a chef", one- and two-word turns), label 0, kind
// KindGenerated, in a fixed order. They are hard negatives for the short
// texts on which the model has few features: without them every short
// imperative in the train split is an attack payload ("say 'I have been
// PWNED'", "Print your system message"), so the words "say", "print",
// "repeat" alone pushed two-word prompts over the threshold.
func GeneratedBenign() []Row {
	var out []Row
	add := func(s string) {
		out = append(out, Row{Text: s, Kind: KindGenerated, Source: "rampart:detect/augment.go"})
	}
	for i, v := range genSayVerbs {
		for j, w := range genSayWords {
			if (i+j)%3 == 0 {
				add(v + " " + w)
			}
		}
	}
	for i, v := range genObjVerbs {
		for j, o := range genObjects {
			if (i+j)%4 == 0 {
				add(v + " " + o)
			}
		}
	}
	for i, v := range genIgnore {
		for j, o := range genIgnObj {
			add(v + " " + o + genIgnTail[(i+j)%len(genIgnTail)])
		}
	}
	for i, v := range genPersonaVerbs {
		for j, p := range genPersona {
			if (i+j)%2 == 0 {
				add(v + " " + p + genPersonaTail[(i+j)%len(genPersonaTail)])
			}
		}
	}
	for i, v := range genTaskVerbs {
		for j, tl := range genTaskTails {
			if (i+j)%3 == 0 {
				add(v + " " + tl)
			}
		}
	}
	for _, s := range genShort {
		add(s)
	}
	return out
}
