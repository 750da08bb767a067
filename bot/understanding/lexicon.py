"""The words officials use, by what they mean here (normalised: lower case, no accents).

Indonesian first, with the Javanese (krama/ngoko) and Sundanese habits of East/Central Java and
Banten offices, chat abbreviations, and English. Words are matched after normalisation
(see ``words.normalise``), so "Setujuuu" and "sdh" arrive here as "setuju" and "sudah".
"""

from __future__ import annotations

# Chat abbreviations and regional synonyms → the canonical word used below.
ABBREVIATIONS: dict[str, str] = {
    # sudah / belum
    "sdh": "sudah", "udh": "sudah", "udah": "sudah", "dah": "sudah", "sudh": "sudah",
    "sampun": "sudah", "pun": "sudah", "wis": "sudah", "uwis": "sudah", "wes": "sudah",
    "tos": "sudah", "atos": "sudah", "parantos": "sudah", "already": "sudah",
    "blm": "belum", "blum": "belum", "belom": "belum", "blom": "belum", "dereng": "belum",
    "durung": "belum", "acan": "belum",
    # pronouns
    "sy": "saya", "sya": "saya",
    # particles
    "aj": "aja",
    # negation
    "tdk": "tidak", "tak": "tidak", "gak": "tidak", "ga": "tidak", "gk": "tidak",
    "nggak": "tidak", "enggak": "tidak", "ngga": "tidak", "engga": "tidak", "ndak": "tidak",
    "nda": "tidak", "mboten": "tidak", "ora": "tidak", "teu": "tidak", "henteu": "tidak",
    "jgn": "jangan", "ampun": "jangan", "sanes": "bukan",
    # deferral
    "nnt": "nanti", "ntar": "nanti", "entar": "nanti", "ntr": "nanti", "mengke": "nanti",
    "mangke": "nanti", "engke": "nanti", "engko": "nanti", "bsk": "besok", "besuk": "besok",
    "sesuk": "besok", "enjing": "besok", "dl": "dulu", "heula": "dulu",
    "riyin": "dulu", "disik": "dulu",
    "dlu": "dulu", "dulu2": "dulu",
    "bentar": "sebentar", "sebentar": "sebentar", "sekedap": "sebentar", "kedap": "sebentar",
    "sakedap": "sebentar",
    # condition
    "tp": "tapi", "tpi": "tapi", "tetapi": "tapi", "namun": "tapi", "kalo": "kalau",
    "klo": "kalau", "kl": "kalau", "jika": "kalau", "bila": "kalau", "apabila": "kalau",
    "menawi": "kalau", "nek": "kalau", "yen": "kalau", "upami": "kalau", "lamun": "kalau",
    # approval / completion
    "stj": "setuju", "stju": "setuju", "acc": "setuju", "acce": "setuju", "diacc": "setuju",
    "approve": "setuju", "approved": "setuju", "agreed": "setuju", "agree": "setuju",
    "lgtm": "setuju", "ahead": "lanjut", "paraf": "setuju", "proceed": "lanjut",
    "sls": "selesai", "slsai": "selesai",
    "rengse": "selesai", "rampung": "selesai", "beres": "selesai", "kelar": "selesai",
    "tuntas": "selesai", "done": "selesai", "finished": "selesai", "completed": "selesai",
    "complete": "selesai", "finish": "selesai",
    "oke": "ok", "okay": "ok", "okey": "ok", "okee": "ok", "oce": "ok", "okk": "ok",
    "sip": "ok", "siip": "ok", "yes": "ya", "iya": "ya", "y": "ya", "yup": "ya",
    "inggih": "nggih", "njih": "nggih", "injih": "nggih", "monggo": "mangga",
    # courtesy
    "bpk": "bapak", "pk": "pak", "ibu": "bu", "bunda": "bu", "mbak": "mas", "mba": "mas",
    "kak": "mas", "dik": "mas", "dek": "mas", "akang": "mas", "kang": "mas", "teh": "mas",
    "teteh": "mas", "sir": "pak", "maam": "bu", "madam": "bu",
    "trims": "terimakasih", "tks": "terimakasih", "thx": "terimakasih", "thanks": "terimakasih",
    "makasih": "terimakasih", "mksh": "terimakasih", "nuhun": "terimakasih",
    "suwun": "terimakasih", "thank": "terimakasih", "silahkan": "silakan", "please": "mohon",
    "pls": "mohon", "plz": "mohon", "tlg": "tolong", "mhn": "mohon",
    # queries
    "stat": "status", "progres": "posisi", "progress": "posisi", "perkembangan": "posisi",
    "posisinya": "posisi", "statusnya": "status", "tugasku": "tugas", "tasks": "tugas",
    "task": "tugas", "todo": "tugas", "kerjaan": "tugas", "pekerjaan": "tugas",
    "help": "bantuan", "bantu": "bantuan", "panduan": "bantuan", "menu": "bantuan",
    "start": "mulai", "cancel": "batal", "undo": "undo", "withdraw": "undo",
    "ditarik": "tarik", "batalkan": "batal",
    "revise": "revisi", "rev": "revisi", "revisian": "revisi", "fix": "perbaiki",
    "correct": "perbaiki", "return": "kembalikan", "returned": "kembalikan",
    "check": "cek", "where": "mana", "mn": "mana", "mna": "mana", "dmn": "dimana",
    "dmna": "dimana", "gmn": "gimana", "gmna": "gimana", "smp": "sampai", "smpe": "sampai",
    "smpai": "sampai", "skrg": "sekarang", "skr": "sekarang", "skrang": "sekarang",
    "skarang": "sekarang",
    "sampe": "sampai", "nyampe": "sampai", "nyampai": "sampai", "thn": "tahun", "th": "tahun",
    "ta": "tahun", "year": "tahun",
}

# Words that carry no decision: greetings, address, thanks, particles, politeness.
COURTESY = frozenset({
    "pak", "bapak", "bu", "mas", "ya", "yaa", "nggih", "mangga", "muhun", "terimakasih",
    "kasih", "matur", "nuwun", "hatur", "mohon", "tolong", "silakan", "saya", "kami",
    "aku", "kula", "abdi", "dan", "and", "sudah", "saja", "aja", "mawon", "wae", "deh", "dong",
    "lah", "yo", "ok", "siap", "baik", "i", "it", "is", "this", "ini", "itu", "nya",
    "maaf", "assalamualaikum", "salam", "selamat", "pagi", "siang", "sore", "malam",
    "semua", "all", "the", "so", "we", "good", "bagus", "mantap", "mantab", "sae", "leres", "tadi",
    "benar", "betul", "sesuai", "beliau", "juga", "also", "dipun", "kemawon",
    "langsung", "segera", "now", "go", "you", "looks", "fine", "great", "sekarang",
})

# Thanks (canonical words): a message of thanks and courtesy alone is answered in kind.
THANKS = frozenset({"terimakasih", "nuwun"})

# The decision vocabulary (canonical words).
APPROVE = frozenset({"setuju", "lanjut", "mangga", "muhun", "nggih", "ok", "ya", "sah"})
COMPLETE = frozenset({"selesai", "sudah"})
# Words that say "received / seen", never "decided".
RECEIPT = frozenset({"terima", "baca", "lihat", "cek", "noted", "received", "seen", "read",
                     "pelajari", "periksa", "tampi", "tingali", "masuk", "review"})
# Alone, these only acknowledge; they lead to a question, never a decision.
ACKNOWLEDGE = frozenset({"siap", "baik", "copy", "roger", "👍", "👌", "✅"})
# A task taken on ("siap, sy kerjakan dulu"): with acknowledgements and deferrals alone, a
# message that promises the work, never one that says it is done.
UNDERTAKE = frozenset({"kerjakan", "laksanakan", "dilaksanakan", "kerjain", "garap", "digarap",
                       "diproses", "proses", "segera", "kirim", "kirimkan", "dikirim", "buat",
                       "buatkan", "dibuat", "susun", "disusun", "siapkan", "disiapkan", "urus",
                       "diurus", "tindaklanjuti", "ditindaklanjuti"})

NEGATION = frozenset({"belum", "tidak", "jangan", "bukan", "not", "no", "dont", "don't",
                      "haven't", "havent", "never", "nope", "isn't", "hasn't", "notyet"})
DEFERRAL = frozenset({"nanti", "besok", "dulu", "sebentar", "tunggu", "nunggu", "later",
                      "tomorrow", "wait", "hold", "pending", "lusa", "akan", "mau", "will",
                      "coba", "soon", "first", "bsk", "ditunda", "tunda", "waktu",
                      "depan", "next", "hampir", "almost", "nearly", "sedang",
                      "masih", "still", "otw", "proses", "dikerjakan", "dikerjain", "sek",
                      "insyaallah", "insya", "diusahakan", "usahakan", "setelah", "sesudah",
                      "abis", "habis", "after", "once", "selepas", "sakbare", "saatos"})
# "tapi …" may still be clearly positive (then the chat asks); "kalau …" never is.
CONTRAST = frozenset({"tapi", "but", "however", "though", "cuma", "hanya", "only"})
CONDITION = frozenset({"kalau", "asal", "asalkan", "selama", "seandainya", "misal",
                       "misalnya", "if", "unless", "except", "kecuali", "provided"})
UNCERTAIN = frozenset({"mungkin", "kayaknya", "sepertinya", "kira", "kiranya", "rasanya",
                       "maybe", "perhaps", "probably", "think", "sih", "kok", "apa", "apakah",
                       "bagaimana", "gimana", "kenapa", "mengapa", "kapan", "siapa",
                       "should", "kah", "atau", "or", "bisa", "boleh", "can", "could", "hmm", "hm"})

# Revision triggers, as sequences of canonical words.
REVISE_EXPLICIT: tuple[tuple[str, ...], ...] = (
    ("send", "back"), ("needs", "changes"), ("need", "changes"), ("revisi",), ("perbaiki",),
    ("koreksi",), ("kembalikan",), ("lengkapi",), ("ubah",), ("ganti",),
)
REVISE_EVALUATIVE: tuple[tuple[str, ...], ...] = (
    ("belum", "sesuai"), ("tidak", "sesuai"), ("kurang", "sesuai"), ("belum", "lengkap"),
    ("kurang", "lengkap"), ("belum", "benar"), ("masih", "salah"), ("masih", "kurang"),
    ("ada", "yang", "salah"), ("ada", "kesalahan"), ("kurang", "tepat"), ("tidak", "tepat"),
    ("not", "right"), ("not", "correct"), ("salah", "ketik"), ("masih", "keliru"),
)
# A revision word after these says the revision is done ("sudah diperbaiki"), not asked for.
REVISED_MARKS = frozenset({"sudah", "telah", "hasil", "file", "berkas", "revised"})
# Positive judgements: with "sudah" they approve ("sudah sesuai") rather than complete.
POSITIVE = frozenset({"sesuai", "bagus", "benar", "betul", "leres", "sae", "mantap", "good",
                      "fine", "great"})

# Phrases that negate a revision and so read as approval ("tidak ada catatan").
NO_OBJECTION: tuple[tuple[str, ...], ...] = (
    ("tidak", "ada", "revisi"), ("tidak", "perlu", "revisi"), ("tidak", "ada", "catatan"),
    ("tidak", "ada", "masalah"), ("tidak", "ada", "koreksi"), ("tanpa", "revisi"),
    ("tanpa", "catatan"), ("no", "problem"), ("no", "changes"), ("no", "comments"),
    ("tidak", "masalah"),
)
# Words that stop the official's own act ("tarik kembali") and cancel a prompt ("batal").
WITHDRAW: tuple[tuple[str, ...], ...] = (
    ("tarik", "kembali"), ("undo",), ("batal", "persetujuan"), ("batal", "setuju"),
    ("batal", "disposisi"), ("batal", "keputusan"), ("salah", "pencet"), ("salah", "tekan"),
    ("salah", "klik"), ("take", "back"), ("batal", "yang", "tadi"), ("keliru", "pencet"),
)
CANCEL_PHRASES: tuple[tuple[str, ...], ...] = (
    ("batal",), ("tidak", "jadi"), ("tidak", "sido"), ("never", "mind"), ("nevermind",),
)

# Commands and queries.
STATUS_WORDS = frozenset({"status", "posisi", "sampai", "mana", "dimana", "gimana",
                          "bagaimana", "cek", "lihat", "kabar", "sejauh", "progres",
                          "siapa"})
STATUS_LEAD = frozenset({"status", "posisi", "cek", "lihat"})
START_WORDS = frozenset({"mulai", "buat", "jalankan", "luncurkan", "buka", "begin"})
TASK_WORDS = frozenset({"tugas"})
HELP_WORDS = frozenset({"bantuan", "bingung", "caranya"})
QUERY_FILLER = frozenset({"apa", "ada", "saya", "my", "daftar", "list", "yang", "menunggu",
                          "show", "me", "hari", "ini", "today", "untuk", "punya", "dong",
                          "what", "are", "of", "the", "flow", "alur", "proses", "sop",
                          "sudah", "di", "sekarang", "tahun", "is", "a", "for", "minta",
                          "lihat", "berapa"})

SLASH_COMMANDS: dict[str, str] = {
    "mulai": "start", "status": "status", "tugas": "tasks",
    "bantuan": "help", "help": "help", "batal": "cancel",
}

# Stems (PySastrawi's output for an affixed word) → canonical word. A stem counts only when the
# word carried an affix: bare "baik" is a courtesy, "diperbaiki" a revision.
AFFIXED_STEMS: dict[str, str] = {
    "revisi": "revisi", "baik": "perbaiki", "benah": "perbaiki", "betul": "perbaiki",
    "koreksi": "koreksi", "kembali": "kembalikan", "lengkap": "lengkapi", "ubah": "ubah",
    "ganti": "ganti", "tuju": "setuju", "selesai": "selesai", "lanjut": "lanjut",
    "terus": "lanjut", "sah": "sah", "mulai": "mulai", "terima": "terima", "baca": "baca",
    "periksa": "periksa", "ajar": "pelajari", "cek": "cek", "status": "status",
    "posisi": "posisi", "tugas": "tugas", "batal": "batal",
    "tunda": "ditunda", "paraf": "setuju", "lihat": "lihat",
}

# Words a typo may be matched to (edit distance); short or risky words are matched exactly only.
FUZZY_TARGETS = ("setuju", "disetujui", "selesai", "status", "revisi", "direvisi", "lanjutkan",
                 "dilanjutkan", "diperbaiki", "perbaiki", "dikembalikan", "posisi", "sampun",
                 "approved", "approve", "finished", "completed", "revise", "bantuan",
                 "tugasku", "terimakasih")
