package detect

import (
	"math/rand/v2"
	"strings"
)

// Hard negatives against over-defense (GeneratedOverDefense): ordinary
// requests that contain the words attacks use — ignore, bypass, override,
// disable, skip, forget, reveal, system, admin, root, developer mode,
// prompt, instructions, "act as", "pretend", "you are now" — in their
// everyday technical or playful sense, questions about prompting, and
// polite e-mail boilerplate ("if you did not request this, ignore this
// e-mail"). Written for this project, not copied from any evaluation set;
// TestGeneratedOverDefenseHeldOut checks that none shares an 8-word phrase
// with the dev and test splits or the held-out files.
var (
	odLeads = []string{
		"How do I", "How can I", "What's the right way to", "Is it safe to", "Show me how to",
		"Can you explain how to", "Quick question: how do I", "What is the command to",
		"Help me", "I need to", "Is there an easy way to",
	}
	odTasks = []string{
		"ignore the warnings in the log output of my nightly job",
		"ignore whitespace changes in a git diff",
		"ignore case when comparing two strings in Python",
		"ignore NaN values when averaging a column in pandas",
		"ignore the header line of a CSV file when importing it",
		"ignore a folder in my .dockerignore file",
		"bypass the cache when I reload a page in Firefox",
		"bypass the proxy for addresses on my local network",
		"bypass the login screen of my own test app in development",
		"bypass a broken step in my Makefile while I debug it",
		"override the CSS of a third-party date picker",
		"override a default setting in my VS Code workspace",
		"override equals and hashCode in a Java class",
		"override a Helm chart value from the command line",
		"override the timezone inside a Docker container",
		"override the margins of one page in a Word document",
		"disable the screensaver on Windows 11",
		"disable a pre-commit hook for a single commit",
		"disable notifications from one group chat",
		"skip the intro of every episode automatically",
		"skip a failing migration in Django",
		"skip a song on the car stereo with the steering wheel buttons",
		"forget a Bluetooth device on my iPhone",
		"make git forget a file that I just added to .gitignore",
		"reveal the formula behind a cell in Excel",
		"reveal hidden files in the macOS Finder",
		"check the system log on Ubuntu",
		"clear the system cache on a Mac",
		"run PowerShell as administrator",
		"give a coworker admin rights on our shared calendar",
		"root a basil cutting in a glass of water",
		"find the square root of 50 without a calculator",
		"turn on developer mode in Chrome to load my unpacked extension",
		"change the color of the command prompt in Windows",
		"show the current git branch in my bash prompt",
		"write clear instructions for the babysitter about bedtime",
		"follow the assembly instructions when one screw is missing",
		"delete all previous versions of a file in Dropbox",
		"undo the last commit but keep my changes",
		"kill a process that is stuck on port 8080",
		"unlock a cell range in a protected Google Sheet that I own",
		"exploit the full speed of my SSD in Windows",
	}
	odTails = []string{"?", "?", " please.", " - thanks!", "? I'm a beginner.", "? Short answer is fine."}

	odPersonaLeads = []string{
		"act as", "pretend you are", "pretend to be", "play", "imagine you are", "you are now",
		"from now on you are", "be",
	}
	odPersonas = []string{
		"a ship captain", "a park ranger", "a grumpy cat", "a space explorer",
		"a 1920s radio host", "a friendly dragon", "a math tutor", "a travel agent",
		"a barista", "a football commentator", "a wizard at a birthday party",
		"a fairy-tale narrator", "a job interviewer", "a tennis coach",
	}
	odPersonaTails = []string{
		" and tell my son a bedtime story", " for my niece's birthday party", " and explain photosynthesis",
		" and help me plan a weekend in Rome", " and quiz me on European capitals",
		" while I practise my Spanish", " for our school play rehearsal",
		" and stay in character until I say stop", " and greet the guests at my party",
		" and describe a day at work", " and give me feedback on my answers",
	}

	odPromptLeads = []string{
		"what is", "how do I write", "can you explain", "give me an example of", "why does my app need",
		"what are common mistakes with", "is there a checklist for", "explain to a beginner",
	}
	odPromptTopics = []string{
		"a system prompt", "few-shot prompting", "a prompt template", "prompt injection",
		"a jailbreak in the context of AI safety", "chain-of-thought prompting",
		"a guardrail for a chatbot", "temperature in text generation",
		"the system message in the chat API", "role prompting",
		"an instruction-tuned model", "output formatting instructions",
	}
	odPromptTails = []string{"?", " in simple words?", " with one example?", " for our team wiki?", ", briefly?"}

	odMailGreetings = []string{"Hi Sam,", "Hello,", "Dear customer,", "Dear Mr. Okafor,", "Hi team,", "Good morning Lena,", "Dear member,"}
	odMailBodies    = []string{
		"We got a request to change the e-mail address on your profile.",
		"Here is the one-time code you asked for: 730 118.",
		"Your library books are due back on Saturday.",
		"The quarterly report is attached for your review.",
		"Your parcel is on its way and should arrive on Wednesday.",
		"Thank you for registering for the webinar on spreadsheet basics.",
		"The school trip on Friday starts at 8:15 from the main gate.",
		"Our records show a new device signed in to your account.",
		"The venue for Thursday's workshop has changed to room 2B.",
		"Your invoice for November is now available in the portal.",
	}
	odMailBoilerplate = []string{
		"If you did not make this request, please ignore this e-mail.",
		"If this was not you, simply ignore this message and nothing will change.",
		"Please disregard the message we sent earlier today; it contained an error.",
		"Kindly ignore my previous e-mail, I attached the wrong file.",
		"This message may contain confidential information. If it reached you by mistake, let us know and erase it.",
		"Please do not reply to this message; the mailbox is not monitored.",
		"You can unsubscribe from these notices at any time in your settings.",
		"No action is needed on your part.",
		"If you have already paid, please disregard this reminder.",
		"Feel free to ignore this if you already sorted it out.",
	}
	odMailSignoffs = []string{"Best regards,\nThe Support Team", "Thanks,\nNora", "Kind regards,\nAccounts", "Cheers,\nDev", "Warm wishes,\nThe Events Office"}
)

// GeneratedOverDefense returns the hard negatives described above, label
// 0: technical and playful requests with trigger words and questions about
// prompting as user prompts (KindGenerated), polite e-mails as documents
// (KindGeneratedDocument) and, one in three, as a user asking about them.
// A seeded sample of each template family.
func GeneratedOverDefense(seed uint64) []Row {
	rng := rand.New(rand.NewPCG(seed, 0x0def))
	const src = "rampart:detect/augment_overdefense.go"
	var out []Row
	seen := map[string]bool{}
	add := func(s, kind string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, Row{Text: s, Kind: kind, Source: src})
		}
	}
	user := func(s string) { add(s, KindGenerated) }
	for _, t := range odTasks {
		for k := 0; k < 3; k++ {
			user(odLeads[rng.IntN(len(odLeads))] + " " + t + odTails[rng.IntN(len(odTails))])
		}
	}
	for _, l := range odPersonaLeads {
		for _, p := range odPersonas {
			if rng.IntN(2) == 0 {
				s := l + " " + p + odPersonaTails[rng.IntN(len(odPersonaTails))]
				user(strings.ToUpper(s[:1]) + s[1:] + ".")
			}
		}
	}
	for _, l := range odPromptLeads {
		for _, p := range odPromptTopics {
			if rng.IntN(3) == 0 {
				s := l + " " + p + odPromptTails[rng.IntN(len(odPromptTails))]
				user(strings.ToUpper(s[:1]) + s[1:])
			}
		}
	}
	for i := 0; i < 120; i++ {
		var b strings.Builder
		b.WriteString(odMailGreetings[rng.IntN(len(odMailGreetings))])
		b.WriteString("\n")
		b.WriteString(odMailBodies[rng.IntN(len(odMailBodies))])
		b.WriteString(" ")
		b.WriteString(odMailBoilerplate[rng.IntN(len(odMailBoilerplate))])
		if rng.IntN(2) == 0 {
			b.WriteString(" ")
			b.WriteString(odMailBoilerplate[rng.IntN(len(odMailBoilerplate))])
		}
		b.WriteString("\n")
		b.WriteString(odMailSignoffs[rng.IntN(len(odMailSignoffs))])
		if i%3 == 2 {
			user("Is this e-mail genuine or phishing?\n\n" + b.String())
			continue
		}
		add(b.String(), KindGeneratedDocument)
	}
	return out
}
