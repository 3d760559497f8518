package detect

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/internal/acdfa"
)

// Planted action requests beyond English (Spanish, French, German,
// Portuguese, Italian, Russian, Chinese, Japanese): the same idea as
// plantedCheck — a consequential verb, how it is addressed, what it asks
// for — as stems over the normalised text, sentence by sentence, like the
// multilingual co-occurrence rules (rules.yaml `all:`). A stem matches at
// the start of a word (any ending: "überweise", "überweisen"), or anywhere
// in Chinese and Japanese. Only sentences that hold a non-ASCII letter or
// one of the ASCII cues below are read, so English text costs one scan
// for them.
//
// Without the conversation a sentence flags when its verb is addressed to
// an AI ("Asistente: …", "Note pour l'assistant : …", "给AI助手的说明") and
// names any target, or when its object is harmful for the verb's kind
// (secrets or the user's things sent to an address, money to an account
// without billing terms, a door unlocked or an alarm disarmed, admin
// rights given, everything deleted, stealth). With the conversation, an
// addressed verb whose kind the user did not ask for (the user's request
// is read with the same stems) flags when it names the user's things, all
// of something or an outside recipient.

// mlStems are the stems of one kind of word in every language.
type mlStems []string

var (
	mlVerbs = []struct {
		class actionClass
		stems mlStems
	}{
		{actMoney, mlStems{"transfier", "transfiera", "transfiere", "págale", "paga ", "pague", "vire ", "virez", "virer", "transférez", "transfère ", "payez",
			"überweis", "zahl", "transfira", "transfere", "pague", "trasferisc", "bonific", "paga ", "перевед", "переведи", "оплат", "заплат",
			"转账", "汇款", "付款", "支付", "送金", "振り込", "振込", "支払"}},
		{actSend, mlStems{"envía", "envia", "envíe", "reenvía", "reenvia", "reenvíe", "manda", "comparte", "envoie", "envoyez", "transmets", "transmettez",
			"partage", "schick", "sende ", "senden", "leite", "weiterleit", "teile", "envie", "encaminh", "compartilh", "partilh", "invia", "inoltra",
			"condividi", "отправ", "перешли", "пересл", "поделись", "发送", "发给", "转发", "分享", "送信", "送って", "転送", "共有"}},
		{actDelete, mlStems{"borra", "elimina", "supprime", "supprimez", "efface", "lösch", "entfern", "apague", "apaga", "exclua", "cancella",
			"удали", "удалит", "删除", "清空", "削除"}},
		{actAccess, mlStems{"concede", "otorga", "dale ", "da acceso", "donne", "donnez", "accorde", "gib ", "geben sie", "gewähr", "erteil", "conceda",
			"dê ", "concedi", "dai ", "дай", "предостав", "выдай", "授予", "给予", "付与", "与えて"}},
		{actDevice, mlStems{"desbloquea", "abre ", "desactiva", "déverrouill", "ouvre", "désactiv", "entriegel", "öffne", "deaktivier", "schalte",
			"desbloqueie", "abra ", "desative", "desligue", "sblocca", "apri ", "disattiva", "открой", "отключи", "разблокир", "解锁",
			"打开", "关闭", "解除", "解錠", "開けて", "無効"}},
		{actTrade, mlStems{"compra ", "compre", "achète", "achetez", "kauf", "купи", "购买", "购入", "購入", "買って"}},
	}
	mlAI = mlStems{"asistente", "agente", "assistant", "assistente", "assistenten", "ki-assistent", "ki-agent", "ki ", "ia ", "ia:",
		"ассистент", "помощник", "ии", "агент", "бот", "助手", "智能体", "机器人", "アシスタント", "エージェント"}
	mlCues = mlStems{"por favor", "merci de", "s'il vous plaît", "veuillez", "bitte", "per favore", "per cortesia", "пожалуйста",
		"请", "ください", "下さい"}
	mlSecret = mlStems{"contraseña", "credencial", "mot de passe", "mots de passe", "identifiant", "passwort", "kennwort", "zugangsdaten",
		"senha", "credenzial", "password", "парол", "учётн", "учетн", "密码", "凭证", "验证码", "パスワード", "暗証", "認証コード",
		"nómina", "nomina", "fiche de paie", "gehalts", "contatos", "contactos", "contatti", "контакт", "通讯录", "連絡先"}
	mlUsers = mlStems{"del usuario", "de l'utilisateur", "des benutzers", "des nutzers", "do usuário", "do utilizador", "dell'utente",
		"пользовател", "用户的", "ユーザーの", "mis ", "mes ", "meine", "meus ", "minhas", "miei ", "mie ", "мои ", "мой ", "мою ", "我的", "私の"}
	mlAll   = mlStems{"todos", "todas", "tous ", "toutes", "alle ", "tutti", "tutte", "все ", "всё", "所有", "全部", "すべて", "全て"}
	mlDoor  = mlStems{"puerta", "porte", "tür", "haustür", "porta", "двер", "门", "ドア", "玄関", "鍵"}
	mlAlarm = mlStems{"alarma", "alarme", "alarmanlage", "allarme", "сигнализац", "警报", "警報", "cámara", "caméra", "kamera", "câmera", "telecamer", "камер", "摄像头", "カメラ"}
	// mlUnlock are the verbs that open a lock or disarm by themselves
	mlUnlock = mlStems{"desbloquea", "desactiva", "déverrouill", "désactiv", "entriegel", "deaktivier", "schalte", "desbloqueie", "desative",
		"desligue", "sblocca", "disattiva", "отключи", "разблокир", "解锁", "关闭", "解除", "解錠", "無効"}
	// mlFunction are frequent function words of the Latin-script
	// languages above: a sentence without accents is read only if it has
	// one of them or a cue
	mlFunction = mlStems{" les ", " des ", " der ", " die ", " und ", " el ", " los ", " las ", " il ", " della ", " dell'", " de l'",
		" una ", " para ", " pour ", " dans ", " mit ", " sur ", " auf ", " nel ", " todos ", " tous ", " alle ", " tutti "}
	mlAdmin   = mlStems{"administrador", "administrateur", "administrator", "administratorrecht", "adminrecht", "amministrator", "администратор", "管理员", "管理者", "権限", "权限"}
	mlStealth = mlStems{"sin avisar", "sin decír", "sin decir", "sans prévenir", "sans le dire", "sans l'avertir", "ohne zu", "ohne ihn", "ohne sie",
		"sem avisar", "sem contar", "senza avvisare", "senza dirlo", "не сообща", "не говор", "не предупрежд", "不要告诉", "不要通知", "知らせずに", "伝えずに"}
	mlBilling = mlStems{"antes del", "avant le", "bis zum", "bis spätestens", "até o dia", "até dia", "entro il", "до ", "之前", "までに", "referencia",
		"référence", "verwendungszweck", "referência", "riferimento", "назначени", "备注", "振込期限", "factura", "facture", "rechnung", "fatura", "fattura", "счёт №", "счет №", "发票", "請求書"}
	mlCurrency = mlStems{"€", "$", "£", "¥", "eur", "usd", "gbp", "chf", "pln", "rub", "евро", "руб", "долл", "美元", "欧元", "元", "円", "ドル", "ユーロ"}
	// mlASCII are the ASCII cues that make an ASCII-only sentence worth
	// reading ("Per favore, invia il file delle password a …").
	mlASCII = mlStems{"por favor", "bitte", "per favore", "per cortesia", "merci de", "veuillez", "asistente", "assistente", "agente",
		" ia ", "ia:", "ki-", " ki ", "invia", "envia", "transfira", "pague", "compre", "elimina", "sblocca", "apri "}
)

func init() {
	for i := range mlVerbs {
		mlNormalize(mlVerbs[i].stems)
	}
	for _, ss := range []mlStems{mlAI, mlCues, mlSecret, mlUsers, mlAll, mlDoor, mlAlarm, mlUnlock, mlAdmin, mlStealth, mlBilling, mlCurrency, mlASCII, mlFunction} {
		mlNormalize(ss)
	}
	mlBuild()
}

// mlNormalize writes the stems as the normaliser writes text (accents
// dropped, confusable Cyrillic letters folded), keeping a leading or
// trailing space.
func mlNormalize(ss mlStems) {
	for i, st := range ss {
		n := normalize.Normalize(strings.TrimSpace(st), normOpts).Norm
		if strings.HasPrefix(st, " ") {
			n = " " + n
		}
		if strings.HasSuffix(st, " ") {
			n += " "
		}
		if n != "" {
			ss[i] = n
		}
	}
}

// hasStem reports whether a stem of ss begins a word of s (anywhere for
// stems in a script written without spaces).
func (ss mlStems) hasStem(s string) (int, bool) {
	for _, st := range ss {
		for off := 0; ; {
			i := strings.Index(s[off:], st)
			if i < 0 {
				break
			}
			i += off
			r, _ := utf8.DecodeRuneInString(st)
			if spaceless(r) || i == 0 || st[0] == ' ' {
				return i, true
			}
			p, _ := utf8.DecodeLastRuneInString(s[:i])
			if !unicode.IsLetter(p) && !unicode.IsDigit(p) {
				return i, true
			}
			off = i + len(st)
		}
	}
	return -1, false
}

// spaceless: Han, kana and Hangul (words are not separated by spaces).
func spaceless(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// mlWorth: the sentence may be in one of the languages above.
func mlWorth(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	if _, ok := mlASCII.hasStem(s); ok {
		return true
	}
	_, ok := mlFunction.hasStem(" " + s + " ")
	return ok
}

// mlGateWord: a word of one of the Latin-script languages above that
// English text rarely has (function words, cues, AI nouns).
func mlGateWord(w string) bool {
	switch w {
	case "les", "des", "der", "die", "und", "el", "los", "las", "il", "della", "una", "para", "pour", "dans", "mit", "sur", "auf", "nel",
		"todos", "tous", "alle", "tutti", "bitte", "veuillez", "merci", "favor", "favore", "cortesia", "asistente", "assistente", "agente",
		"ia", "ki", "invia", "envia", "transfira", "pague", "compre", "elimina", "sblocca", "apri", "sie", "ihre", "votre", "vos", "del",
		"dell'utente", "l'utilisateur", "l'assistant", "l'assistente", "usuario", "usuário", "utente":
		return true
	}
	return false
}

// mlWorthText: the text may hold a sentence in one of the languages above
// (a non-ASCII byte or a gate word); tw are its words.
func mlWorthText(norm string, tw [][2]int) bool {
	for _, w := range tw {
		if norm[w[0]] >= 0x80 || norm[w[1]-1] >= 0x80 || mlGateWord(norm[w[0]:w[1]]) {
			return true
		}
	}
	for i := 0; i < len(norm); i++ {
		if norm[i] >= 0x80 {
			return true
		}
	}
	return false
}

// mlSentences splits normalised text into sentences (also at the CJK
// full stop and exclamation and question marks).
func mlSentences(norm string, fn func(start int, s string) bool) {
	st := 0
	for i := 0; i < len(norm); {
		r, n := rune(norm[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(norm[i:])
		}
		end := false
		switch r {
		case '\n', '!', '?', ';', '。', '！', '？':
			end = true
		case '.':
			end = i+1 == len(norm) || norm[i+1] == ' ' || norm[i+1] == '\n'
		}
		i += n
		if end || i == len(norm) {
			if i-st > 3 && !fn(st, norm[st:i]) {
				return
			}
			st = i
		}
	}
}

// mlAmount: a digit next to a currency.
func mlAmount(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			continue
		}
		rest := strings.TrimLeft(s[i:], "0123456789.,  ")
		before := strings.TrimRight(s[:i], " ")
		for _, c := range mlCurrency {
			if strings.HasPrefix(rest, c) || strings.HasSuffix(before, c) {
				return true
			}
		}
	}
	return false
}

// mlRecipient: an outside address or account in the sentence.
func mlRecipient(s string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '，' || r == '。' || r == '、' || r == '：' || r == '「' || r == '」' || r == ',' || r == ':' || r == '(' || r == ')'
	}) {
		w = strings.TrimRight(w, ".!?;")
		if wordTarget(w)&tRecipient != 0 {
			return true
		}
		// an IBAN or account number written in one piece
		digits := 0
		for i := 0; i < len(w); i++ {
			if w[i] >= '0' && w[i] <= '9' {
				digits++
			}
		}
		if digits >= 10 && len(w) >= 12 {
			return true
		}
	}
	return false
}

// Kinds of stems (bits of mlKinds).
const (
	mkAI uint32 = 1 << (iota + 16)
	mkCue
	mkSecret
	mkUsers
	mkAll
	mkDoor
	mkAlarm
	mkUnlock
	mkAdmin
	mkStealth
	mkBilling
)

// mlTrie finds every stem in one pass; mlKinds[p] are the kinds of
// pattern p (the low bits: 1<<class for verbs).
var (
	mlTrie  *acdfa.Automaton
	mlPats  []string
	mlKinds []uint32
)

func mlBuild() {
	idx := map[string]int{}
	add := func(ss mlStems, k uint32) {
		for _, st := range ss {
			i, ok := idx[st]
			if !ok {
				i = len(mlPats)
				idx[st] = i
				mlPats = append(mlPats, st)
				mlKinds = append(mlKinds, 0)
			}
			mlKinds[i] |= k
		}
	}
	for _, v := range mlVerbs {
		add(v.stems, 1<<v.class)
	}
	for _, x := range []struct {
		ss mlStems
		k  uint32
	}{{mlAI, mkAI}, {mlCues, mkCue}, {mlSecret, mkSecret}, {mlUsers, mkUsers}, {mlAll, mkAll}, {mlDoor, mkDoor}, {mlAlarm, mkAlarm},
		{mlUnlock, mkUnlock}, {mlAdmin, mkAdmin}, {mlStealth, mkStealth}, {mlBilling, mkBilling}} {
		add(x.ss, x.k)
	}
	t, err := acdfa.New(mlPats)
	if err != nil {
		panic("detect: planted-action stems: " + err.Error()) // fixed tables: a test fails first
	}
	mlTrie = t
}

// atWordStart: a stem found at byte i of s begins a word there (or is
// written in a script without spaces, or carries its own space).
func atWordStart(s string, i int, st string) bool {
	r, _ := utf8.DecodeRuneInString(st)
	if spaceless(r) || i == 0 || st[0] == ' ' {
		return true
	}
	p, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(p) && !unicode.IsDigit(p)
}

// mlSentence is what one sentence holds.
type mlSentence struct {
	start, end int
	kinds      uint32
	verbs      []mlVerbAt
}

type mlVerbAt struct {
	class actionClass
	at    int
}

// plantedML is plantedCheck for the languages above; asked holds the
// action kinds the user's request asks for (nil: no conversation).
func plantedML(norm string, asked *[nActions]bool) (start, end int, drift, ok bool) {
	var sents []mlSentence
	mlSentences(norm, func(st int, s string) bool {
		sents = append(sents, mlSentence{start: st, end: st + len(s)})
		return true
	})
	if len(sents) == 0 {
		return
	}
	cur := 0
	acdfa.Walk(mlTrie, norm, func(e, n, p int) {
		at := e - n + 1
		for cur < len(sents)-1 && at >= sents[cur].end {
			cur++
		}
		sn := &sents[cur]
		if at < sn.start || e >= sn.end || !atWordStart(norm, at, mlPats[p]) {
			return // outside a sentence, across two, or inside a word
		}
		k := mlKinds[p]
		sn.kinds |= k
		for c := actSend; c < nActions; c++ {
			if k&(1<<c) != 0 {
				sn.verbs = append(sn.verbs, mlVerbAt{c, at})
			}
		}
	})
	for i := range sents {
		sn := &sents[i]
		if len(sn.verbs) == 0 {
			continue
		}
		s := norm[sn.start:sn.end]
		if !mlWorth(s) {
			continue
		}
		has := func(k uint32) bool { return sn.kinds&k != 0 }
		amount, rcpt := mlAmount(s), mlRecipient(s)
		users, all, secret, door, alarm, admin, stealth, bill := has(mkUsers), has(mkAll), has(mkSecret), has(mkDoor), has(mkAlarm),
			has(mkAdmin), has(mkStealth), has(mkBilling)
		target := secret || users || all || door || alarm || admin || stealth || amount || rcpt
		for _, v := range sn.verbs {
			var harmful bool
			switch v.class {
			case actMoney:
				harmful = amount && (users || rcpt && !bill)
			case actSend:
				harmful = rcpt && (secret || users || all)
			case actDelete:
				harmful = all && (users || secret) || users && secret
			case actAccess:
				harmful = admin && (rcpt || users || all)
			case actDevice:
				// "unlock the door", "disarm the alarm"; "open the door"
				// only when it is the user's
				_, unlock := mlUnlock.hasStem(norm[v.at:sn.end])
				harmful = unlock && (door || alarm) || door && users
			case actTrade:
				harmful = users && (amount || secret)
			}
			harmful = harmful || stealth && target
			// the verb is addressed: to an AI, with a politeness cue, or as
			// an imperative that opens the sentence (the stems are
			// imperative forms)
			lead := strings.TrimLeft(norm[sn.start:v.at], " \t-*•>\"'«„「:")
			addressed := has(mkAI) || has(mkCue) || lead == ""
			e := sn.start + len(strings.TrimRight(s, " \n"))
			if addressed && (has(mkAI) && target || harmful) {
				return sn.start, e, false, true
			}
			if asked != nil && addressed && !asked[v.class] && (users || all || rcpt || stealth) && !bill {
				return sn.start, e, true, true
			}
		}
	}
	return
}

// mlAsked marks the action kinds a (non-English) user request asks for.
func mlAsked(user string, asked *[nActions]bool) {
	for _, v := range mlVerbs {
		if _, ok := v.stems.hasStem(user); ok {
			asked[v.class] = true
		}
	}
}
