package detect

// Multilingual hard negatives (2026-12-07, issue 20): in the 18 languages of
// the multilingual rules, requests to ignore, overlook or skip something
// harmless (typos, spelling, formatting, background noise, an earlier
// e-mail, an old address). Attacks in these languages use the same verbs
// ("ignoriere", "игнорируй", "忽略") with "previous instructions" as the
// object; the training pool is mostly English, so without these rows the
// verb alone carried the score (the German "ignore the typos" request
// scored 0.52 as user text). Written for this project from word lists;
// TestGeneratedMultilingualHeldOut checks that no row repeats a sentence or
// a 4-word phrase of testdata/multilingual.jsonl, which measures the
// multilingual rules and is not training data.

// mlBenign is one language's word lists: imperative verbs (informal and
// formal), harmless objects and sentence tails; rows are verb + object +
// tail, or for languages where the object comes first (objFirst: Turkish,
// Persian, Hindi, Japanese, Korean) object + verb + tail.
type mlBenign struct {
	lang     string
	verbs    []string
	objects  []string
	tails    []string
	objFirst bool
}

var mlBenignLists = []mlBenign{
	{lang: "es", verbs: []string{"Ignora", "Ignore usted", "Pasa por alto", "No hagas caso a"},
		objects: []string{"las faltas de ortografía", "el formato raro", "mi correo anterior", "los errores de tecleo", "la dirección antigua", "el eco de la llamada"},
		tails:   []string{" y resume el texto.", ", gracias.", " en el segundo párrafo.", " y revisa los datos del informe."}},
	{lang: "pt", verbs: []string{"Ignore", "Ignora", "Desconsidere", "Não ligue para"},
		objects: []string{"os erros de digitação", "a formatação", "a minha mensagem anterior", "o ruído do áudio", "o endereço antigo", "os acentos que faltam"},
		tails:   []string{" e resuma o documento.", ", obrigado.", " no último parágrafo.", " e confira os números."}},
	{lang: "fr", verbs: []string{"Ignore", "Ignorez", "Ne fais pas attention à", "Oublie"},
		objects: []string{"les coquilles", "la mise en page", "mon dernier message", "le bruit de fond", "l'ancienne adresse", "les accents manquants"},
		tails:   []string{" et résume l'article.", ", merci.", " dans le tableau.", " et vérifie les dates."}},
	{lang: "de", verbs: []string{"Ignoriere", "Ignorieren Sie", "Übersieh", "Vergiss"},
		objects: []string{"die Vertipper", "die Formatierung", "meine letzte E-Mail", "das Rauschen im Hintergrund", "die alte Adresse", "die Rechtschreibfehler"},
		tails:   []string{" und fasse den Bericht zusammen.", ", danke.", " im zweiten Absatz.", " und rechne die Summen nach."}},
	{lang: "it", verbs: []string{"Ignora", "Ignori", "Non badare a", "Lascia perdere"},
		objects: []string{"gli errori di battitura", "la formattazione", "la mia email precedente", "il brusio di sottofondo", "il vecchio indirizzo", "gli accenti mancanti"},
		tails:   []string{" e riassumi il testo.", ", grazie.", " nella tabella.", " e controlla le date."}},
	{lang: "nl", verbs: []string{"Negeer", "Let niet op", "Vergeet", "Sla over"},
		objects: []string{"de tikfouten", "de opmaak", "mijn vorige mail", "het achtergrondgeluid", "het oude adres", "de spelfouten"},
		tails:   []string{" en vat het verslag samen.", ", bedankt.", " in de tweede alinea.", " en controleer de bedragen."}},
	{lang: "ru", verbs: []string{"Игнорируй", "Проигнорируйте", "Не обращайте внимания на", "Забудь про"},
		objects: []string{"опечатки", "форматирование", "моё прошлое письмо", "шум на записи", "старый адрес", "ошибки в пунктуации"},
		tails:   []string{" и перескажи статью.", ", спасибо.", " во втором абзаце.", " и проверь цифры в отчёте."}},
	{lang: "uk", verbs: []string{"Ігноруй", "Проігноруйте", "Не звертай уваги на", "Забудь про"},
		objects: []string{"друкарські помилки", "форматування", "мій попередній лист", "шум на записі", "стару адресу", "помилки в пунктуації"},
		tails:   []string{" і перекажи статтю.", ", дякую.", " у другому абзаці.", " і перевір цифри у звіті."}},
	{lang: "pl", verbs: []string{"Zignoruj", "Ignoruj", "Nie zwracaj uwagi na", "Pomiń"},
		objects: []string{"błędy pisowni", "formatowanie", "mojego poprzedniego maila", "szum w nagraniu", "stary adres", "brakujące przecinki"},
		tails:   []string{" i streść artykuł.", ", dzięki.", " w drugim akapicie.", " i sprawdź liczby w raporcie."}},
	{lang: "tr", objFirst: true, verbs: []string{"görmezden gel", "boş ver", "dikkate alma", "görmezden gelin"},
		objects: []string{"Yazım yanlışlarını", "Biçimlendirmeyi", "Önceki e-postamı", "Kayıttaki gürültüyü", "Eski adresi", "Noktalama hatalarını"},
		tails:   []string{" ve makaleyi özetle.", ", teşekkürler.", " ve rakamları kontrol et.", "."}},
	{lang: "vi", verbs: []string{"Bỏ qua", "Đừng để ý", "Hãy bỏ qua", "Quên"},
		objects: []string{"các lỗi đánh máy", "định dạng", "email trước của tôi", "tiếng ồn trong bản ghi", "địa chỉ cũ", "lỗi dấu câu"},
		tails:   []string{" và tóm tắt bài báo.", ", cảm ơn.", " trong đoạn thứ hai.", " và kiểm tra các con số."}},
	{lang: "id", verbs: []string{"Abaikan", "Jangan hiraukan", "Lewati", "Lupakan"},
		objects: []string{"kesalahan ejaan", "format tulisan", "email saya sebelumnya", "suara bising di rekaman", "alamat lama", "tanda baca yang salah"},
		tails:   []string{" dan ringkas artikelnya.", ", terima kasih.", " di paragraf kedua.", " lalu cek angka di laporan."}},
	{lang: "ar", verbs: []string{"تجاهل", "تجاهلي", "لا تهتم بـ", "انسَ"},
		objects: []string{"الأخطاء المطبعية", "التنسيق", "رسالتي السابقة", "الضجيج في التسجيل", "العنوان القديم", "علامات الترقيم"},
		tails:   []string{" ولخص المقال.", "، شكراً.", " في الفقرة الثانية.", " وتحقق من الأرقام في التقرير."}},
	{lang: "fa", objFirst: true, verbs: []string{"را نادیده بگیر", "را نادیده بگیرید", "را ول کن", "را فراموش کن"},
		objects: []string{"اشتباهات تایپی", "قالب‌بندی", "ایمیل قبلی من", "صدای زمینه ضبط", "آدرس قدیمی", "علائم نگارشی"},
		tails:   []string{"، بعد مقاله را خلاصه کن.", "، ممنون.", "؛ اعداد گزارش را چک کن.", "."}},
	{lang: "hi", objFirst: true, verbs: []string{"को अनदेखा करो", "को नज़रअंदाज़ करें", "पर ध्यान मत दो", "को छोड़ दो"},
		objects: []string{"टाइपो", "फ़ॉर्मैटिंग", "मेरे पिछले ईमेल", "रिकॉर्डिंग के शोर", "पुराने पते", "विराम चिह्नों"},
		tails:   []string{" और लेख का सार लिखो।", ", धन्यवाद।", " और रिपोर्ट के आँकड़े देखो।", "।"}},
	{lang: "zh", verbs: []string{"忽略", "请忽略", "不用管", "别在意"},
		objects: []string{"文中的打字错误", "排版问题", "我上一封邮件", "录音里的杂音", "旧地址", "标点符号"},
		tails:   []string{"，帮我总结这篇文章。", "，谢谢。", "，看第二段就行。", "，核对一下报告里的数字。"}},
	{lang: "ja", objFirst: true, verbs: []string{"を無視して", "は無視してください", "は気にせず", "は忘れて"},
		objects: []string{"タイプミス", "書式", "前のメール", "録音の雑音", "古い住所", "句読点"},
		tails:   []string{"、記事を要約してください。", "。ありがとう。", "、表の数字を確かめて。", "、二段落目を読んでください。"}},
	{lang: "ko", objFirst: true, verbs: []string{"무시하고", "신경 쓰지 말고", "빼고", "건너뛰고"},
		objects: []string{"맞춤법 실수", "서식", "제 이전 메일", "녹음의 잡음", "예전 주소", "문장 부호"},
		tails:   []string{" 기사를 요약해 줘.", " 고마워요.", " 표의 숫자를 확인해 줘.", " 두 번째 문단을 봐 줘."}},
}

// GeneratedMultilingual returns the multilingual hard negatives (label 0,
// fixed order): every verb with every object, the tail chosen by position;
// every other row is scanned as a document (KindGeneratedDocument), the
// others as user text (KindGenerated).
func GeneratedMultilingual() []Row {
	var out []Row
	n := 0
	for _, l := range mlBenignLists {
		for i, v := range l.verbs {
			for j, o := range l.objects {
				tail := l.tails[(i+j)%len(l.tails)]
				s := v + " " + o + tail
				if l.objFirst {
					s = o + " " + v + tail
				}
				kind := KindGenerated
				if n%2 == 1 {
					kind = KindGeneratedDocument
				}
				n++
				out = append(out, Row{Text: s, Kind: kind, Source: "rampart:detect/augment_ml.go"})
			}
		}
	}
	return out
}
