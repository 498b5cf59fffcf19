"""RuleBasedExtractor: the obvious rule-based reference every qawl model is compared with.

A cue-word lexicon (قال، أكد، أشار ... بحسب، وفقا لـ، نقلا عن) finds each attribution; the speaker is the
words after the cue up to a comma, a complementizer (أن / إن), a colon, a quotation mark or a
preposition (or a name set off by commas after them, or a subject before the cue after كان / لكن / عن);
the content runs from the complementizer or the quotation to the end of the sentence or the
closing quote. A title line "X: ..." or "X يؤكد ..." is a headline statement. Names are resolved by a few
rules (strip titles, look the mention up elsewhere in the article, carry the last speaker on for "وأضاف").
No medium is predicted.
Entities come from gazetteer-free trigger rules (qawl.baseline_entities). Deliberately simple; keep it so.

    from qawl.baseline import RuleBasedExtractor
    doc = RuleBasedExtractor()("قال الوزير إن المحادثات ستستأنف.")
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from qawl.baseline_entities import (ANONYMOUS, COMPLEMENTIZERS, NAME_LINKS, PERSON_TITLES, Word, forms, is_al_word,
                                     name_end, trigger_entities, words_of)
from qawl.document import Document, Span, Statement
from qawl.normalize import is_punct
from qawl.sentences import split_sentences

SAY = forms("قال قالت قالوا قالا يقول تقول يقولون", "اكد اكدت اكدوا يؤكد تؤكد يؤكدون",
             "اشار اشارت اشاروا يشير تشير", "اوضح اوضحت اوضحوا يوضح توضح", "صرح صرحت صرحوا يصرح تصرح",
             "اعلن اعلنت اعلنوا يعلن تعلن", "اعترف اعترفت اعترفوا يعترف تعترف",
             "نفى نفي نفت نفوا ينفي تنفي", "افاد افادت افادوا يفيد تفيد", "اضاف اضافت اضافوا يضيف تضيف",
             "ذكر ذكرت ذكروا", "تابع تابعت", "شدد شددت يشدد تشدد", "اعتبر اعتبرت يعتبر تعتبر",
             "لفت لفتت", "حذر حذرت يحذر تحذر", "كتب كتبت", "ابان ابانت", "المح المحت",
             "بينت يبين اردف اردفت نوه نوهت اقر اقرت يقر تقر اجاب اجابت", "راى رات يرى ترى اعتقد يعتقد تعتقد")
# content may start at عن
ABOUT = forms("تحدث تحدثت تحدثوا يتحدث تتحدث", "كشف كشفت كشفوا يكشف تكشف", "اعرب اعربت اعربوا يعرب تعرب")
REQUEST = forms("دعا دعت دعوا يدعو تدعو", "طالب طالبت طالبوا يطالب تطالب",  # content may start at إلى / بـ / على
                "حث حثت يحث تحث تعهد تعهدت يتعهد تتعهد هدد هددت يهدد تهدد توعد توعدت رحب رحبت يرحب ترحب",
                "اشاد اشادت يشيد تشيد")
VERB_CUES = {"say", "about", "request"}
# Participles continue the sentence's speaker: "..., مضيفا أن ..." has no speaker mention of its own.
PARTICIPLE = forms("قائلا قائله مؤكدا مؤكده مشيرا مشيره موضحا موضحه مضيفا مضيفه معتبرا معتبره",
                    "مبينا مبينه منوها منوهه متوقعا متوقعه",
                    "لافتا لافته مشددا مشدده محذرا محذره نافيا نافيه داعيا داعيه مطالبا مطالبه كاشفا كاشفه",
                    "قوله قولها بقوله بقولها")  # "نقلت الوكالة عنه قوله: ..."
ACCORDING = forms("بحسب حسب وفقا وفق نقلا")
THEN_THAT = forms("فان فانه فانها فانهم")  # "بحسب X فإنّ ...": the content starts after it
MEDIA_NOUNS = forms("وكاله صحيفه قناه موقع شبكه تلفزيون اذاعه مجله جريده برنامج وسائل مراسل مراسله")
SPEAKER_STOPS = forms("في خلال عبر امام لدى على الى عن مساء صباح امس اليوم يوم عقب بعد قبل اثناء حول",
                       "الاثنين الثلاثاء الاربعاء الخميس الجمعه السبت الاحد", "حين حينما عندما بينما لكن كما ايضا فيه فيها عنه عنها له لها منه منها عما",
                       "بالقول قائلا قائله كذلك",  # manner words: "وتابع بالقول: ..." has no speaker mention
                       # when it was said ("لكن مينغ قال حينها", "أعلنت أول من أمس", "ودعت غير مرة")
                       "لاحقا حينها وقتها سابقا مجددا مؤخرا حاليا بدوره بدورها اول غير نيابه",
                       "متحدثا متحدثه مخاطبا مخاطبه عليه عليها صلى",  # "وأوضح متحدثا لـ", "قال صلى الله عليه وسلم"
                       # the addressee, mostly a medium: "وقال لـ«الشرق الأوسط»", "وأكد لبي بي سي", "لوكالة ..."
                       "ل لبي لراديو للصحفيين للصحافيين للصحافه للاعلام") | {"ل" + noun for noun in MEDIA_NOUNS}
# after a request verb, its object ("دعا جميع الأطراف"); not كل: "دعا كل من X و Y" is "both X and Y called"
ADDRESSED = forms("جميع كافه")
# "قال له الرئيس"، "قال عنه الذهبي": to or of whom it was said, between a cue and its speaker
PRONOUN_OBJECTS = forms("له لها لهم لهما عنه عنها عنهم")
RELAYED = forms("نقلته نقلتها نشرته نشرتها ذكرته ذكرتها اوردته اوردتها بثته بثتها")  # "... carried it"
MEDIA = MEDIA_NOUNS | forms("الوكاله الصحيفه القناه الموقع")
# A subject before its cue (SVO): "وكانت الشرطة (قد) أشارت ..." and "لكن كوهين قال ..." / "بيد أن السفارة قالت".
WAS = forms("كان كانت كانوا وكان وكانت وكانوا فكان فكانت")
BUT = forms("لكن ولكن")
BUT_THAT = forms("بيد غير الا والا يذكر ويذكر يشار ويشار")  # followed by أنّ
REPORTED_WORDS = forms("قوله قولها")  # "نقلت الصحيفة عن رايت قولها": the speaker follows عن
# a verbal noun right after the cue is what was stated, not who stated it: "وأكد استعداد الاتحاد للتفاعل ..."
STATED = forms("استعداد ضروره اهميه رفض رفضه رفضها دعم دعمه دعمها حرص حرصه حرصها عزم التزام تمسك خلو عدم",
               "ترحيب استمرار مواصله تضامن")
NAMED = forms("يدعى تدعى يدعي تدعي")  # "شاهدة عيان، تدعى فلانة"
# who someone is to someone else: "وقالت جاكلين بروميسلو، محامية بوبيت، ..." sets off a description, not a name
RELATIONS = forms("محامي محاميه خطيب خطيبه زوج زوجه ابن ابنه شقيق شقيقه والد والده صديق صديقه حليف حليفه",
                  "مساعد مساعده زميل زميله مراسل مراسله")
ACCOUNT_OF = forms("رايه رايها تقديره تقديرها روايته روايتها قوله قولها تعبيره تعبيرها وصفه وصفها")
TITLES = forms("الرئيس رئيس وزير الوزير وزيره نائب المتحدث متحدث الناطق ناطق باسم السفير سفير الامين امين",
                "العام عام الشيخ الملك الامير السيد السيده الدكتور مدير المدير قائد زعيم المستشار مستشار",
                "عضو النائب المبعوث مبعوث المندوب مندوب ممثل الجنرال العقيد اللواء العميد المرشح رئيسه",
                "د دكتور المهندس م") | PERSON_TITLES
PROCLITICS = "وف"
QUOTE_OPEN = "\"“«„”"
QUOTE_CLOSE = {"«": "»"}  # any of ” “ " closes the others: scraped news mixes them freely
MAX_SPEAKER_WORDS = 10
MAX_LOOKAHEAD = 10  # words between a speaker and its complementizer ("في تصريحات سابقة، إنّ")

# A statement found by the rules: content, cue, speaker, kind, and whether the content is a quotation.
Found = tuple[Span, "Span | None", "Span | None", str, bool]
Hit = "tuple[Found, int] | None"  # the statement and the index of the first word after it


def _cue_class(form: str) -> tuple[str, int] | None:
    """(class, letters of proclitic) of a cue word, trying it bare and without و / ف."""
    for skip in (0, 1):
        if skip and (len(form) < 3 or form[0] not in PROCLITICS):
            break
        f = form[skip:]
        for name, lexicon in (("say", SAY), ("about", ABOUT), ("request", REQUEST),
                              ("participle", PARTICIPLE), ("according", ACCORDING)):
            if f in lexicon:
                return name, skip
    return None


def _cue_kind(form: str) -> str | None:
    cls = _cue_class(form)
    return cls[0] if cls else None


def is_participle(text: str, cue: Span | None) -> bool:
    """A participle cue ("مضيفا", "قائلة") continues the speaker of its sentence."""
    ws = words_of(text, cue.start, cue.end) if cue is not None else []
    return bool(ws) and _cue_kind(ws[0].form) == "participle"


def _ends_speaker(form: str, first: bool) -> bool:
    """A word no speaker mention after a cue runs into: a stop word, an attribution ("وأضاف بحسب مقاطع ...")
    or, right after the cue, a "to the ..." phrase (قال للصحفيين، للصحيفة): whom the words were addressed to.
    Inside a mention لل is part of the name ("المديرية العامة للأمن الوطني")."""
    addressed = form.startswith("لل") or (form[:1] == "ل" and len(form) > 1 and not "\u0621" <= form[1] <= "\u064a")
    return form in SPEAKER_STOPS or form in ACCORDING or (first and (addressed or form in ("من", "ذلك", "هذا")))


def _joins(text: str, a: Word, b: Word) -> bool:
    """Two words of one mention: only space between them, a hashtag mark (أعلنت #الصين، جو #بايدن: some
    outlets tag names so) or the period of a one-letter title (د. فلان)."""
    gap = text[a.end:b.start].strip()
    return not gap or gap == "#" or (gap == "." and len(a.form) == 1)


def _closing(text: str, open_at: int, limit: int) -> int | None:
    """Index of the quote mark closing the one at `open_at`, within the paragraph (up to `limit`)."""
    want = QUOTE_CLOSE.get(text[open_at], "\"”“")
    for i in range(open_at + 1, limit):
        if text[i] in want:
            return i
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding space and final punctuation (ANNOTATION.md keeps it outside the content)."""
    while end > start and (text[end - 1].isspace() or (is_punct(text[end - 1]) and text[end - 1] not in QUOTE_OPEN)):
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def statement_kind(content: str, quoted: bool) -> str:
    """direct for a quotation, partial for a paraphrase holding quoted words, else indirect."""
    if quoted:
        return "direct"
    return "partial" if any(c in content for c in QUOTE_OPEN + "»") else "indirect"


class _DocState:
    """Per-document context for name resolution."""

    def __init__(self, text: str):
        self.text = text
        self.words = words_of(text)
        self.last_name: str | None = None
        # where each word form occurs: name lookups visit only those places, not the whole article
        self._lookups: dict[tuple[str, object], str | None] = {}
        self.positions: dict[str, list[int]] = {}
        for i, w in enumerate(self.words):
            self.positions.setdefault(w.form, []).append(i)
        self.word_starts = [w.start for w in self.words]

    def words_in(self, start: int, end: int) -> list[Word]:
        """`words_of(text, start, end)`, sliced from the article's words (scanning each sentence again was
        a third of the rules' time); scanned anew only when a word crosses `start` or `end`."""
        i = bisect.bisect_left(self.word_starts, start)
        j = bisect.bisect_left(self.word_starts, end, i)
        if (i > 0 and self.words[i - 1].end > start) or (j > i and self.words[j - 1].end > end):
            return words_of(self.text, start, end)
        return self.words[i:j]

    def _adjacent(self, a: Word, b: Word) -> bool:
        return self.text[a.end:b.start].isspace()

    def resolve(self, speaker: Span | None) -> str | None:
        if speaker is None:  # "وأضاف": the last speaker goes on
            return self.last_name
        ws = self.words_in(speaker.start, speaker.end)
        if not ws or any(w.form in ANONYMOUS for w in ws[:3]):  # "مصادر مطلعة", "العديد من وسائل الإعلام"
            return None
        forms = [w.form for w in ws]
        titles = [n for n, w in enumerate(ws) if w.form in TITLES]
        if titles:
            # "وزير الخارجية الروسي سيرغي لافروف", "مساعد رئيس المجلس الدكتور يحيى بن عبدالله": the name
            # follows the last title and the ال-words that describe it.
            j = titles[-1] + 1
            while j < len(ws) and is_al_word(ws[j].form) and j - titles[-1] <= 3:
                j += 1
            k = name_end(self.text, ws, j) if j < len(ws) else j
            if k > j:
                return self.text[ws[j].start:ws[k - 1].end]
            return self._cached(self._name_after, tuple(forms)) or speaker.text
        if len(ws) == 1 and not forms[0].startswith("ال"):
            return self._cached(self._name_ending, forms[0]) or speaker.text
        return speaker.text

    def _cached(self, lookup, key):
        """Both lookups depend only on the article: a name repeated through a long article is looked up once."""
        if (lookup.__name__, key) not in self._lookups:
            self._lookups[(lookup.__name__, key)] = lookup(key)
        return self._lookups[(lookup.__name__, key)]

    def _name_after(self, forms: tuple[str, ...]) -> str | None:
        """"الرئيس التركي" -> the name that follows "الرئيس التركي" elsewhere in the article (the longest)."""
        n, best = len(forms), None
        for i in self.positions.get(forms[0], ()):
            if i >= len(self.words) - n:
                break
            if tuple(w.form for w in self.words[i:i + n]) != forms or not self._adjacent(self.words[i + n - 1],
                                                                                   self.words[i + n]):
                continue
            k = name_end(self.text, self.words, i + n)
            if k > i + n and (best is None or k - i - n > best[2]):
                best = (self.words[i + n].start, self.words[k - 1].end, k - i - n)
        return None if best is None else self.text[best[0]:best[1]]

    def _name_ending(self, form: str) -> str | None:
        """"أردوغان" -> "رجب طيب أردوغان": up to two name words before it elsewhere in the article."""
        best = None
        for i in self.positions.get(form, ()):
            w = self.words[i]
            k = i
            while (k > 0 and i - k < 2 and not self.words[k - 1].form.startswith("ال")
                   and self.words[k - 1].form not in TITLES | SPEAKER_STOPS | SAY
                   and _cue_class(self.words[k - 1].form) is None and self._adjacent(self.words[k - 1], self.words[k])):
                k -= 1
            # Only a run introduced by a title or an ال-word ("التركي رجب طيب أردوغان") is taken for a name.
            intro = self.words[k - 1].form if k > 0 else ""
            if k < i and (intro in TITLES or intro.startswith("ال")) and \
                    (best is None or self.words[k].start - w.end < best[0] - best[1]):
                best = (self.words[k].start, w.end)
        return None if best is None else self.text[best[0]:best[1]]


class RuleBasedExtractor:
    """Same interface as qawl.pipeline.Extractor: `__call__(text) -> Document` and an order-keeping `pipe`."""

    name = "baseline"

    def __call__(self, text: str | Document) -> Document:
        return next(self.pipe([text]))

    def pipe(self, items: Iterable[str | Document], batch_size: int = 32) -> Iterator[Document]:
        """One Document per item, in input order; `batch_size` is accepted for interface parity (rules
        need no batching)."""
        for n, item in enumerate(items):
            doc = item if isinstance(item, Document) else Document(id=str(n + 1), text=item)
            meta = dict(doc.meta)
            meta["qawl"] = {"model": self.name}
            yield Document(doc.id, doc.text, meta, trigger_entities(doc.text), self.statements(doc.text))

    def statements(self, text: str) -> list[Statement]:
        state = _DocState(text)
        title_end = text.find("\n")
        has_title = title_end > 0 and text[title_end:].strip() != ""
        found: list[Found] = []
        if has_title:
            found += self._headline(text, 0, title_end)
        for sent in split_sentences(text):
            if has_title and sent.start < title_end:
                continue
            heading = self._headline(text, sent.start, sent.end) if self._is_heading(text, sent) else []
            found += heading or self._sentence(text, sent, state.words_in(sent.start, sent.end))
        out, covered = [], 0
        for content, cue, speaker, kind, quoted in found:
            # A cue inside a quotation already taken (a quote may run over several sentences) is quoted
            # speech, not a new attribution.
            if (cue or content).start < covered:
                continue
            if quoted:
                covered = max(covered, content.end)
            name = state.resolve(speaker)
            if speaker is not None:
                state.last_name = name
            out.append(Statement(f"S{len(out) + 1}", content, cue, speaker, None, name, kind))
        return out

    def _headline(self, text: str, start: int, end: int) -> list[Found]:
        """A title or sub-heading line: "X يؤكد أن ..." (speaker before the cue) or "X: ..." (no cue)."""
        colon = text.rfind(":", start, end)
        ws = words_of(text, start, end)
        for k, w in enumerate(ws[:7]):
            cls = _cue_class(w.form)
            if cls and cls[0] != "according" and 0 < k and k + 1 < len(ws):
                head = [v for v in ws[:k] if v.start > colon]  # "اقرأ أيضا: الرئيس ... يتحدث"
                if not head or any(v.form in SPEAKER_STOPS for v in head):  # "كذلك أشار إلى ...": no title
                    break
                c0, c1 = _trim(text, ws[k + 1].start, end)
                return [(Span.of(text, c0, c1), Span.of(text, w.start + cls[1], w.end),
                         Span.of(text, head[0].start, head[-1].end), "headline", False)]
        if colon > start:
            head = words_of(text, start, colon)
            if any(_cue_class(w.form) for w in head):  # "وأضاف: ..." is a cue, not a headline's speaker
                return []
            c0, c1 = _trim(text, colon + 1, end)
            while c0 < c1 and text[c0] in QUOTE_OPEN:
                c0 += 1
            while c1 > c0 and text[c1 - 1] in QUOTE_OPEN + "»":
                c1 -= 1
            if 1 <= len(head) <= 5 and c1 > c0:
                return [(Span.of(text, c0, c1), None, Span.of(text, head[0].start, head[-1].end), "headline", False)]
        return []

    @staticmethod
    def _is_heading(text: str, sent: Span) -> bool:
        """A sub-heading: a whole line of a few words with no final full stop."""
        line_start = text.rfind("\n", 0, sent.start) + 1
        line_end = text.find("\n", sent.end)
        line_end = len(text) if line_end < 0 else line_end
        return (not text[line_start:sent.start].strip() and not text[sent.end:line_end].strip()
                and text[sent.end - 1] not in ".!?؟…" and len(sent.text.split()) <= 16)

    def _sentence(self, text: str, sent: Span, ws: list[Word]) -> list[Found]:
        para_end = text.find("\n", sent.start)
        para_end = len(text) if para_end < 0 else para_end
        found, i = [], 0
        while i < len(ws):
            cls = _cue_class(ws[i].form)
            hit = None
            if cls is not None:
                hit = (self._according if cls[0] == "according" else self._verb)(text, sent, ws, i, cls, para_end)
            if hit is None:
                i += 1
                continue
            found.append(hit[0])
            i = hit[1]
        return found

    def _verb(self, text: str, sent: Span, ws: list[Word], i: int, cls: tuple[str, int], para_end: int) -> Hit:
        cue = Span.of(text, ws[i].start + cls[1], ws[i].end)
        first = i + 1
        if cls[0] != "participle" and first + 1 < len(ws) and ws[first].form in PRONOUN_OBJECTS:
            first += 1
        j = first
        if cls[0] != "participle":
            # Speaker: words after the cue until punctuation, a complementizer or a stop word.
            while (j < len(ws) and j - i <= MAX_SPEAKER_WORDS and ws[j].form not in COMPLEMENTIZERS
                   and not _ends_speaker(ws[j].form, j == first) and _joins(text, ws[j - 1], ws[j])
                   and not (cls[0] == "request" and ws[j].form[:1] == "ب" and ws[j].form not in NAME_LINKS)):
                j += 1  # (a request's بـ starts what was asked for: "وتعهد الرئيس بمواصلة ...")
        speaker = Span.of(text, ws[first].start, ws[j - 1].end) if j > first else None
        if cls[0] == "request" and speaker is not None and (
                ws[first].form in ADDRESSED or (ws[first].form == "كل" and first + 1 < len(ws) and ws[first + 1].form != "من")):
            speaker = None  # "ودعا جميع الأطراف إلى ...": whom the request addresses, not who made it
        if cls[0] == "say" and speaker is not None and ws[i + 1].form in STATED:
            return self._content_to_end(text, sent, ws, i + 1, cue, None, para_end)
        if speaker is None:
            speaker = self._subject_before(text, ws, i, cls[0])
        else:
            speaker = self._apposed_name(text, ws, j) or speaker
        # Content start: the complementizer, an opening quote, or (for request/about verbs) the preposition.
        for k in range(j, min(len(ws), j + MAX_LOOKAHEAD) + 1):
            before = text[ws[k - 1].end:ws[k].start if k < len(ws) else sent.end]
            quote = next((p for p, ch in enumerate(before) if ch in QUOTE_OPEN), None)
            open_at = ws[k - 1].end + quote if quote is not None else -1
            close = _closing(text, open_at, para_end) if quote is not None else None
            if close is not None and len(words_of(text, open_at, close)) <= 4 and ":" not in before:
                close = quote = None  # a quoted name (قال الوزير، "فلان"، إنّ ...) is not the quotation
            if quote is not None:
                end = close if close is not None else _trim(text, open_at + 1, para_end)[1]
                content = Span.of(text, *_trim(text, open_at + 1, end))
                if content.start == content.end:  # 'قال "' at the end of a text, or an empty «»
                    return None
                return (content, cue, speaker, "direct", True), self._next(ws, content.end)
            if k == len(ws):
                break
            form = ws[k].form
            starts = (form in COMPLEMENTIZERS or (k == j and cls[0] == "about" and form == "عن")
                      or (k == j and cls[0] == "request" and (form in ("الى", "على") or form.startswith("ب"))))
            if starts:
                return self._content_to_end(text, sent, ws, k, cue, speaker, para_end)
            if ":" in before:
                return self._content_to_end(text, sent, ws, k, cue, speaker, para_end)
            if _cue_kind(form) in VERB_CUES:
                return None  # "ونفت ذلك، وأكدت أن ...": the content belongs to the next cue
        return None

    @staticmethod
    def _apposed_name(text: str, ws: list[Word], j: int) -> Span | None:
        """The name set off by commas after a speaker's title: "قال محامي دانيلز، مايكل أفنياتي، إن",
        "وقال مندوب موسكو في الأمم المتحدة، فاسيلي نيبينزيا، إن", "قالت شاهدة عيان، تدعى فلانة: ..." (or
        without the comma: "وقال نادل في مطعم يدعى جوناثان، ..."); the
        annotation takes the name for the speaker mention. A name starts with no ال-word and has no stop word or
        title (a family name may: "طه الشابي")."""
        def gap(a: int) -> str:
            return text[ws[a - 1].end:ws[a].start]

        k = j
        while k < len(ws) and k - j < 6 and not any(c in gap(k) for c in ",،") and ws[k].form not in NAMED:
            if any(c in gap(k) for c in QUOTE_OPEN + ":") or ws[k].form in COMPLEMENTIZERS or _cue_class(ws[k].form):
                return None
            k += 1
        if k >= len(ws) or k - j >= 6:
            return None
        if ws[k].form in NAMED:  # "وقال نادل في مطعم يدعى جوناثان، ..."
            k += 1
        m = k
        while m < len(ws) and m - k < 4 and (m == k or not gap(m).strip()):
            w = ws[m].form
            if ((m == k and w.startswith("ال")) or w.startswith("لل") or not w.isalpha() or _cue_class(w)
                    or w in SPEAKER_STOPS | TITLES | COMPLEMENTIZERS | ANONYMOUS | RELATIONS):
                return None
            m += 1
        after = gap(m).strip() if m < len(ws) else ""
        if m == k or not (after[:1] in (",", "،", ":") or (m < len(ws) and ws[m].form in COMPLEMENTIZERS and not after)):
            return None
        return Span.of(text, ws[k].start, ws[m - 1].end)

    @staticmethod
    def _subject_before(text: str, ws: list[Word], i: int, cls: str) -> Span | None:
        """The speaker of a cue with none after it, standing before it in its sentence: "وكانت الشرطة قد
        أشارت" (after كان), "لكن كوهين قال" / "بيد أن السفارة الروسية قالت" / "يذكر أن الوزير، قد أكد" (after
        a contrast or a reminder), "نقلت الصحيفة عن رايت قولها" (after عن). Only after those words: a
        speakerless "وأضاف" continues the last speaker."""
        end = i - 1 if i > 0 and ws[i - 1].form == "قد" else i
        if cls == "participle" and ws[i].form not in REPORTED_WORDS:
            return None
        k = end
        while k > 0 and end - k < 6:
            before = ws[k - 1]
            gap = text[before.end:ws[k].start].strip(" " + QUOTE_OPEN + "»")
            if gap and not (gap in ",،" and k == end < i):  # punctuation ends the search, but "X، قد قال"
                return None
            opens = (before.form == "عن" if cls == "participle" else
                     before.form in WAS | BUT or (before.form == "ان" and k > 1 and ws[k - 2].form in BUT_THAT))
            if opens:
                if k == end or any(w.form in SPEAKER_STOPS | COMPLEMENTIZERS or _cue_class(w.form) for w in ws[k:end]):
                    return None
                return Span.of(text, ws[k].start, ws[end - 1].end)
            k -= 1
        return None

    def _content_to_end(self, text: str, sent: Span, ws: list[Word], k: int, cue: Span, speaker: Span | None,
                        para_end: int) -> Hit:
        start = ws[k].start
        end = sent.end
        nxt = ws[k + 1].start if k + 1 < len(ws) else sent.end
        if text[ws[k].end:nxt].strip()[:1] in tuple(QUOTE_OPEN) and ws[k].form in COMPLEMENTIZERS:
            # أنّ "…": a fully quoted clause runs through the closing quote and is direct.
            open_at = text.index(text[ws[k].end:nxt].strip()[0], ws[k].end)
            close = _closing(text, open_at, para_end)
            if close is not None:
                content = Span.of(text, start, close + 1)
                return (content, cue, speaker, "direct", True), self._next(ws, content.end)
        # A participle cue later in the sentence ("، مضيفا أن"), or a verb cue with its speaker and
        # complementizer ("وبعد أن ذكر بأن ...، اعتبر الشفي أن ..."), starts a statement of its own.
        for m in range(k + 1, len(ws)):
            c = _cue_class(ws[m].form)
            if c is None or not text[ws[m - 1].end:ws[m].start].strip():
                continue
            if c[0] == "participle" or (c[0] == "say" and any(w.form in COMPLEMENTIZERS for w in ws[m + 2:m + 6])):
                end = ws[m - 1].end
                break
        c0, c1 = _trim(text, start, end)
        if text[c0:c1].count("\"") % 2 or text[c0:c1].count("«") > text[c0:c1].count("»"):
            close = _closing(text, max(text.rfind("\"", c0, c1), text.rfind("«", c0, c1)), para_end)
            c1 = c1 if close is None else close + 1
        content = Span.of(text, c0, c1)
        return (content, cue, speaker, statement_kind(content.text, False), False), self._next(ws, content.end)

    def _according(self, text: str, sent: Span, ws: list[Word], i: int, cls: tuple[str, int],
                   para_end: int) -> Hit:
        cue = Span.of(text, ws[i].start + cls[1], ws[i].end)
        j = i + 1
        relayed = False
        if j < len(ws) and ws[j].form in ("ما", "لما"):  # "بحسب ما ذكرت وكالة ...", "وفقا لما نقلته ..."
            relayed = j + 1 < len(ws) and ws[j + 1].form in RELAYED
            j += 2
        if j < len(ws) and ws[j].form == "عن":  # "نقلا عن ..."
            j += 1
        first = j
        while (j < len(ws) and j - first < MAX_SPEAKER_WORDS and ws[j].form not in THEN_THAT | COMPLEMENTIZERS
               and ws[j].form not in SPEAKER_STOPS and (_cue_class(ws[j].form) is None or ws[j].form in ACCOUNT_OF)
               and not text[ws[j - 1].end:ws[j].start].strip()):
            j += 1
        if j == first:
            return None
        s0 = ws[first].start + (1 if ws[first].form[:1] == "ل" and ws[i].form.endswith(("وفقا", "وفق")) else 0)
        # "بحسب رأيه": the account of someone named before; "وفقا لما نقلته وكالة ...": the medium that carried
        # the words of someone named before. Either way the speaker is whoever spoke last.
        relayed_by_medium = relayed and ws[first].form in MEDIA
        speaker = None if relayed_by_medium or all(w.form in ACCOUNT_OF for w in ws[first:j]) \
            else Span.of(text, s0, ws[j - 1].end)
        if i == 0 or ws[i].start == sent.start:
            # "وبحسب الرئيس فإنّ ..." / "وفقا لـ X، ...": the content follows.
            k = j + 1 if j < len(ws) and ws[j].form in THEN_THAT else j
            if k >= len(ws) or _cue_kind(ws[k].form) in VERB_CUES:
                return None  # "وحسب رويترز، أضافت هيلي ...": the medium of the statement that follows
            c0, c1 = _trim(text, ws[k].start, sent.end)
        else:
            # "..., بحسب وزارة الصحة": the content is the sentence before the cue, unless a cue there already
            # framed it ("أعلن لافروف أن ...، بحسب ما أوردته الوكالة": the medium of that statement)
            if any(_cue_kind(w.form) in VERB_CUES | {"participle"} for w in ws[:i]):
                return None
            c0, c1 = _trim(text, sent.start, ws[i].start)
            while c1 > c0 and is_punct(text[c1 - 1]):
                c1 -= 1
        if c1 <= c0:
            return None
        content = Span.of(text, c0, c1)
        return (content, cue, speaker, statement_kind(content.text, False), False), max(j, self._next(ws, content.end))

    @staticmethod
    def _next(ws: list[Word], end: int) -> int:
        """Index of the first word after a content: cues inside a quotation are not statements here."""
        return next((n for n, w in enumerate(ws) if w.start >= end), len(ws))
