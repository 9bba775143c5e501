"""Write the real-shaped test corpus (run from anywhere; output is committed).

    python tests/data/realshaped/make.py

Invented short news prose about 2022 events, written for these tests (no real article
is copied). Seeded: the output is the same on every run. See README.md for the shape.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent / "corpus"

# How each outlet spells the names that differ between outlets.
STYLE = {
    "RT": {"zel": "Vladimir Zelensky", "zel_s": "Zelensky", "kyiv": "Kiev", "luhansk": "Lugansk",
           "zap": "Zaporozhye", "kharkiv": "Kharkov", "odesa": "Odessa", "nato": "NATO",
           "stolt": "Jens Stoltenberg"},
    "NBC": {"zel": "Volodymyr Zelenskyy", "zel_s": "Zelenskyy", "kyiv": "Kyiv",
            "luhansk": "Luhansk", "zap": "Zaporizhzhia", "kharkiv": "Kharkiv", "odesa": "Odesa",
            "nato": "NATO", "stolt": "Jens Stoltenberg"},
    "BBC": {"zel": "Volodymyr Zelensky", "zel_s": "Zelensky", "kyiv": "Kyiv",
            "luhansk": "Luhansk", "zap": "Zaporizhzhia", "kharkiv": "Kharkiv", "odesa": "Odesa",
            "nato": "Nato", "stolt": "Jens Stoltenberg"},
    "WIRE": {"zel": "Volodymyr Zelenskiy", "zel_s": "Zelenskiy", "kyiv": "Kyiv",
             "luhansk": "Luhansk", "zap": "Zaporizhzhia", "kharkiv": "Kharkiv",
             "odesa": "Odesa", "nato": "NATO", "stolt": "Jens Stoltenberg"},
}

# topic -> (months it runs in, titles, sentences). Sentences stand alone, so any order reads.
TOPICS: dict[str, tuple[list[int], list[str], list[str]]] = {
    "grain": ([6, 7, 8], [
        "First grain ship leaves {odesa} under Black Sea deal",
        "Grain corridor talks stall over inspections in Istanbul",
        "Wheat prices ease as ships queue off {odesa}",
        "UN says grain exports must reach poorest countries first",
    ], [
        "The bulk carrier left the port of {odesa} early on {weekday} with about {n}0,000 tonnes "
        "of maize on board, port officials said.",
        "Under the agreement brokered by Turkey and the United Nations, ships are inspected in "
        "Istanbul before they sail on to their buyers.",
        "Ukraine was one of the world's largest exporters of wheat and sunflower oil before the "
        "war, and millions of tonnes have been stuck in silos since February.",
        "Moscow has said it will not attack vessels using the agreed corridor, but insists that "
        "Western sanctions still hinder its own food and fertiliser exports.",
        "{zel_s} said in his nightly address that the first sailings were only a beginning and "
        "that the ports needed months of steady traffic to matter.",
        "Insurers said premiums for the Black Sea remained far above their pre-war level, "
        "which could keep some owners away.",
        "Aid agencies warned that prices in East Africa and the Middle East were still high "
        "despite the first shipments.",
        "A joint coordination centre with Russian, Ukrainian, Turkish and UN staff is meant to "
        "settle disputes about routes and inspections.",
        "Traders in Chicago said wheat futures fell by about {n} percent on the news before "
        "recovering some of the losses.",
    ]),
    "nato": ([5, 6, 7], [
        "Finland and Sweden formally apply to join {nato}",
        "{nato} leaders meet in Madrid as alliance rethinks its eastern flank",
        "Turkey lifts objection to Nordic {nato} bids after late-night talks",
        "{stolt} says alliance will raise high-readiness forces to 300,000",
    ], [
        "{stolt} told reporters that the alliance's door remained open and that both "
        "applications would be handled as quickly as possible.",
        "Turkey had objected to the bids, accusing Stockholm and Helsinki of harbouring people it "
        "regards as terrorists.",
        "The Kremlin said the expansion would not make Europe more secure and that it would "
        "respond to any new military infrastructure near its borders.",
        "Leaders agreed to describe Russia as the most significant and direct threat to the "
        "allies' security in the new strategic concept.",
        "Finland shares a border of about 1,300 kilometres with Russia, which would more than "
        "double the alliance's land border with the country.",
        "Diplomats said the ratification in all thirty member parliaments could take up to a "
        "year.",
        "The summit also pledged more help for Ukraine, including secure communications and "
        "fuel, but stopped short of a timetable for membership.",
        "Swedish Prime Minister Magdalena Andersson called the decision a turning point after "
        "two centuries of military non-alignment.",
    ]),
    "plant": ([8, 9], [
        "UN inspectors reach {zap} nuclear plant after days of shelling",
        "Shelling cuts power line to {zap} plant again",
        "IAEA calls for protection zone around {zap} reactors",
    ], [
        "A team from the International Atomic Energy Agency led by Rafael Grossi crossed the "
        "front line on {weekday} after a delay of several hours.",
        "The plant, Europe's largest, has been held by Russian forces since March but is still "
        "run by its Ukrainian staff.",
        "Each side has accused the other of shelling the site and of risking a radiation "
        "disaster.",
        "The last working power line was cut for several hours, and the plant relied on "
        "diesel generators to keep its reactors cool.",
        "Grossi said two inspectors would stay at the site permanently to report on its "
        "condition.",
        "Residents of the nearby town of Enerhodar were handed iodine tablets as a precaution, "
        "local officials said.",
        "Moscow said Western countries were ignoring what it called Ukrainian attacks on the "
        "plant.",
        "{zel_s} called for the plant to be demilitarised and returned to Ukrainian control.",
    ]),
    "luhansk": ([5, 6, 7], [
        "Fighting rages in Severodonetsk as Russian forces push into {luhansk}",
        "Ukrainian troops withdraw from Lysychansk",
        "Bridges to Severodonetsk destroyed, governor says",
        "{luhansk} region almost entirely under Russian control",
    ], [
        "The regional governor, Serhiy Haidai, said the last bridge into the city had been "
        "destroyed, making evacuations all but impossible.",
        "Hundreds of civilians were reported to be sheltering in the Azot chemical plant.",
        "Russia's defence ministry said its forces and those of the self-proclaimed {luhansk} "
        "republic had taken control of several villages around the city.",
        "Military analysts said the slow advance came at a heavy cost for both armies.",
        "Ukrainian commanders said they were trading ground for time while waiting for Western "
        "artillery to arrive.",
        "Heavy shelling was reported along a front line of more than {n}0 kilometres.",
        "Officials in {kyiv} said a withdrawal to better-defended positions was a decision to "
        "save soldiers' lives.",
        "The capture of the twin cities would give Moscow nearly all of the {luhansk} region, one "
        "of its stated war aims.",
    ]),
    "sanctions": ([3, 4, 5, 6], [
        "EU agrees to ban most Russian oil imports by end of year",
        "New sanctions target Russian banks and oligarchs",
        "Gas flows through Nord Stream fall to a fifth of capacity",
        "Moscow says sanctions will hurt Europe more than Russia",
    ], [
        "The embargo covers oil brought by sea but exempts pipeline deliveries, a concession to "
        "Hungary.",
        "European Commission President Ursula von der Leyen said the package would cut about "
        "ninety percent of Russian oil imports by the end of the year.",
        "Kremlin spokesman Dmitry Peskov said the measures would boomerang on European "
        "households through higher prices.",
        "Gazprom blamed the reduced flows on a turbine held up in Canada for repairs.",
        "Germany's economy minister Robert Habeck said the country had to prepare for a winter "
        "without Russian gas.",
        "The rouble, which fell sharply after the invasion, has since recovered to its strongest "
        "level in years.",
        "Officials said about {n}00 people and entities had been added to the list, including "
        "members of the State Duma.",
        "The United States and Britain announced similar steps on the same day.",
    ]),
    "weapons": ([4, 5, 6, 7], [
        "US to send advanced rocket systems to Ukraine",
        "{zel_s} asks Western leaders for more heavy weapons",
        "First HIMARS launchers arrive on the front line",
        "Germany approves delivery of anti-aircraft guns",
    ], [
        "{zel} said in a video address that his forces needed more artillery and air defence "
        "to hold the line in the east.",
        "The Pentagon said the launchers would come with munitions that can hit targets up to "
        "eighty kilometres away.",
        "Russian Foreign Minister Sergei Lavrov warned that longer-range weapons would push "
        "Moscow to move its own goals further west.",
        "The package is worth about ${n}00 million and also includes helicopters and armoured "
        "vehicles.",
        "Ukrainian soldiers have been trained on the systems in Germany and Poland, officials "
        "said.",
        "Defence ministers from about forty countries met at Ramstein air base to coordinate "
        "deliveries.",
        "Critics in Berlin said the government had been too slow to decide on heavy weapons.",
    ]),
    "kharkiv": ([9], [
        "Ukraine retakes Izium in rapid {kharkiv} counteroffensive",
        "Russian forces pull back from {kharkiv} region",
        "Mass grave found near Izium after Russian withdrawal",
    ], [
        "Ukrainian forces said they had recaptured more than {n},000 square kilometres of "
        "territory in a week.",
        "Russia's defence ministry described the move as a planned regrouping of its troops "
        "towards Donetsk.",
        "Residents of Balakliia came out to greet soldiers, video verified by journalists "
        "showed.",
        "Investigators in Izium began exhuming bodies from a burial site in a forest outside "
        "the town.",
        "{zel_s} visited the town and raised the Ukrainian flag over the city council.",
        "The speed of the advance surprised many Western analysts.",
        "Power was cut to large parts of {kharkiv} after strikes on infrastructure.",
    ]),
    "refugees": ([3, 4, 5], [
        "Poland has taken in more than three million people fleeing Ukraine",
        "Refugees return to {kyiv} as fighting moves east",
        "Schools across Europe enrol Ukrainian children",
    ], [
        "The UN refugee agency said more than {n} million people had left Ukraine since the "
        "invasion began on 24 February.",
        "Most of those crossing into Poland were women and children, as men of fighting age are "
        "barred from leaving.",
        "Volunteers at the Medyka crossing handed out soup, SIM cards and train tickets.",
        "Some families said they were going home because their towns around {kyiv} were now "
        "safe.",
        "Local authorities said housing was becoming the biggest problem as the stay grew "
        "longer.",
        "The European Union granted the newcomers temporary protection, giving them the right "
        "to work and to use schools and hospitals.",
    ]),
    "mariupol": ([4, 5], [
        "Last defenders of Azovstal steelworks surrender",
        "Evacuation convoy leaves Mariupol",
        "Prisoner exchange returns fighters to Ukraine",
    ], [
        "Hundreds of fighters left the Azovstal steelworks in Mariupol and were taken to "
        "territory held by Russia, officials said.",
        "{kyiv} said it hoped to bring the soldiers home in an exchange of prisoners.",
        "The Red Cross registered the fighters as prisoners of war at the request of both "
        "sides.",
        "The siege of the port city lasted almost three months and left much of it in ruins.",
        "Moscow described the surrender as a victory and said the fighters would be "
        "investigated.",
        "Civilians who had sheltered in the plant's bunkers were evacuated earlier in a convoy "
        "organised by the UN.",
    ]),
}

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

BOILERPLATE = {
    "RT": "You can share this story on social media:",
    "NBC": "Download the NBC News app for full coverage of the war in Ukraine.",
    "BBC": ("\u00a9 2022 BBC. The BBC is not responsible for the content of external sites. "
            "Read about our approach to external linking."),
}


def _fill(text: str, style: dict[str, str], rng: random.Random) -> str:
    return text.format(**style, weekday=rng.choice(WEEKDAYS), n=rng.randint(2, 9))


def _article(rng: random.Random, style: dict[str, str], topic: str,
             k: int | None = None) -> tuple[int, str, list[str]]:
    months, titles, sentences = TOPICS[topic]
    k = k or rng.randint(4, 6)
    chosen = rng.sample(sentences, min(k, len(sentences)))
    paras: list[str] = []
    while chosen:  # one or two sentences per paragraph
        take = 2 if len(chosen) > 2 and rng.random() < 0.4 else 1
        paras.append(" ".join(_fill(s, style, rng) for s in chosen[:take]))
        chosen = chosen[take:]
    return rng.choice(months), _fill(rng.choice(titles), style, rng), paras


def _words(paras: list[str]) -> int:
    return sum(len(p.split()) for p in paras)


def _stamp(rng: random.Random, month: int) -> tuple[int, int, int, int, int]:
    return month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)


def _outlet_articles(rng: random.Random, outlet: str, n: int) -> list[dict]:
    out = []
    topics = list(TOPICS)
    while len(out) < n:
        topic = topics[len(out) % len(topics)] if len(out) < len(topics) else rng.choice(topics)
        month, title, paras = _article(rng, STYLE[outlet], topic)
        if not 70 <= _words(paras) <= 190:
            continue
        out.append({"topic": topic, "when": _stamp(rng, month), "title": title, "paras": paras})
    return out


def _rt_date(i: int, when: tuple[int, ...]) -> str:
    m, d, h, mi, s = when
    if i % 5 == 3:
        return f"2022-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{(i * 37) % 1000:03d}Z"
    return f"2022-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


def _nbc_date(i: int, when: tuple[int, ...]) -> str:
    m, d, h, mi, s = when
    dt = datetime(2022, m, d, h, mi, s)
    if i % 4 == 1:
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + "-04:00"
    return dt.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _bbc_date(i: int, when: tuple[int, ...]) -> str:
    m, d, *_ = when
    if i == 7:
        return ""
    if i == 11:
        return "TBC"
    dt = datetime(2022, m, d)
    return f"{dt.day} {dt.strftime('%B %Y')}" if i % 2 else dt.strftime("%Y-%m-%d")


def _slug(title: str) -> str:
    return "-".join("".join(c for c in w.lower() if c.isalnum()) for w in title.split())[:60]


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Date", "URL", "Title", "Text"])
        w.writerows(rows)


# Wire copy that two outlets carry: exact in one, lightly edited in another.
WIRE_STORY = {
    "title": "Grain ship leaves Odesa under UN-brokered deal",
    "paras": [
        "The first ship carrying Ukrainian grain since the start of the war left the port of "
        "Odesa on Monday, bound for Lebanon with about 26,000 tonnes of maize.",
        "The departure follows an agreement brokered by Turkey and the United Nations last "
        "month to unblock Black Sea ports and ease a global food crisis.",
        "Ukraine's infrastructure minister said 16 more ships were waiting to leave, and that "
        "exports could reach several million tonnes a month if the deal holds.",
        "Russia has denied responsibility for the food crisis and blamed Western sanctions for "
        "slowing its own exports of grain and fertiliser.",
    ],
}


def main() -> None:
    rng = random.Random(2022)
    HERE.mkdir(exist_ok=True)
    for old in ("RT.csv", "NBC.csv", "bbc.csv", "wire.jsonl", "sources.csv"):
        (HERE / old).unlink(missing_ok=True)
    for folder in ("txt", "kyiv-independent"):
        shutil.rmtree(HERE / folder, ignore_errors=True)

    # --- RT.csv: ISO dates (some with .fff and Z), Kiev/Zelensky/Lugansk, share line -----
    rows = []
    for i, a in enumerate(_outlet_articles(rng, "RT", 22)):
        paras = list(a["paras"])
        if i % 4 != 0:
            paras.append(BOILERPLATE["RT"])
        if i % 7 == 2:
            paras.append("Read Full Article at RT.com")
        num = 550000 + i * 913
        rows.append([_rt_date(i, a["when"]), f"https://www.rt.com/russia/{num}-{_slug(a['title'])}/",
                     a["title"], "\n\n".join(paras)])
    # the same story scraped twice under two URLs (exact duplicate)
    rows.append([rows[3][0], rows[3][1].replace("/russia/", "/news/"), rows[3][2], rows[3][3]])
    # wire copy, lightly edited (near duplicate of the JSONL's Reuters item)
    rows.append(["2022-08-01T12:40:00", "https://www.rt.com/business/560001-grain-ship-odessa/",
                 "First grain ship leaves Odessa under UN-brokered deal",
                 "\n\n".join([p.replace("Odesa", "Odessa") for p in WIRE_STORY["paras"][:3]]
                             + ["Moscow has repeatedly denied responsibility for the food "
                                "crisis, blaming Western sanctions.", BOILERPLATE["RT"]])])
    _write_csv(HERE / "RT.csv", rows)

    # --- NBC.csv: RFC 2822 and -04:00 dates, Zelenskyy, app line, AP copy verbatim -------
    rows = []
    for i, a in enumerate(_outlet_articles(rng, "NBC", 20)):
        paras = list(a["paras"])
        if i % 3 != 1:
            paras.append(BOILERPLATE["NBC"])
        if i == 5:  # the typo a real corpus has
            paras.insert(1, "NATO Secretary General Jen Stoltenberg said allies would keep "
                            "supporting Ukraine for as long as it takes.")
        rows.append([_nbc_date(i, a["when"]),
                     f"https://www.nbcnews.com/news/world/{_slug(a['title'])}-rcna{3000 + i}",
                     a["title"], "\n\n".join(paras)])
    rows.append(["Mon, 01 Aug 2022 11:05:00 GMT",
                 "https://www.nbcnews.com/news/world/grain-ship-leaves-odesa-rcna9999",
                 WIRE_STORY["title"], "\n\n".join(WIRE_STORY["paras"])])
    _write_csv(HERE / "NBC.csv", rows)

    # --- bbc.csv: written and plain dates, one empty, one garbage; (c) line; .co.uk/.com --
    rows = []
    for i, a in enumerate(_outlet_articles(rng, "BBC", 20)):
        paras = list(a["paras"]) + ([BOILERPLATE["BBC"]] if i % 5 != 4 else [])
        host = "www.bbc.co.uk" if i % 3 else "www.bbc.com"
        url = f"https://{host}/news/world-europe-{61000000 + i * 4321}"
        rows.append([_bbc_date(i, a["when"]), url, a["title"], "\n\n".join(paras)])
    _write_csv(HERE / "bbc.csv", rows)

    # --- wire.jsonl: its own field names; zones; one record without source --------------
    recs = []
    for i, a in enumerate(_outlet_articles(rng, "WIRE", 12)):
        m, d, h, mi, s = a["when"]
        agency = "Reuters" if i % 2 == 0 else "AP"
        host = "www.reuters.com" if agency == "Reuters" else "apnews.com"
        stamp = (f"2022-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}+02:00" if i % 3 == 0 else
                 f"2022-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{i * 81:03d}Z" if i % 3 == 1
                 else f"{['June', 'July', 'May'][i % 3]} {d}, 2022")
        recs.append({"headline": a["title"], "content": "\n\n".join(a["paras"]),
                     "published_at": stamp, "link": f"https://{host}/world/europe/"
                     f"{_slug(a['title'])}-2022-{m:02d}-{d:02d}/",
                     "source": "" if i == 5 else agency})
    recs.append({"headline": WIRE_STORY["title"], "content": "\n\n".join(WIRE_STORY["paras"]),
                 "published_at": "2022-08-01T10:52:00Z", "link":
                 "https://www.reuters.com/world/europe/grain-ship-leaves-odesa-2022-08-01/",
                 "source": "Reuters"})
    recs.append({"headline": "Undated wire item", "content": "", "published_at": "",
                 "link": "", "source": "AP"})  # no body: skipped with a reason
    with (HERE / "wire.jsonl").open("w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")

    # --- txt/: .txt files with a metadata.csv sidecar; Cyrillic names -------------------
    (HERE / "txt").mkdir()
    meta = []
    txt_outlets = ["Meduza", "TVN24", "Ukrainska Pravda"]
    for i, a in enumerate(_outlet_articles(rng, "BBC", 9)):
        name = f"{i:03d}.txt"
        paras = list(a["paras"])
        if i == 2:
            paras.append("\u0412\u043e\u043b\u043e\u0434\u0438\u043c\u0438\u0440 "
                         "\u0417\u0435\u043b\u0435\u043d\u0441\u044c\u043a\u0438\u0439 "
                         "(Volodymyr Zelensky) wrote on Telegram that \u041a\u0438\u0457\u0432 "
                         "would not give up any territory.")
        if i == 4:
            paras.append("\u0412\u043b\u0430\u0434\u0438\u043c\u0438\u0440 "
                         "\u0417\u0435\u043b\u0435\u043d\u0441\u043a\u0438\u0439, as Russian "
                         "media spell the president's name, met commanders near Zaporozhye.")
        (HERE / "txt" / name).write_text(a["title"] + "\n\n" + "\n\n".join(paras) + "\n",
                                         encoding="utf-8")
        m, d, *_ = a["when"]
        outlet = txt_outlets[i % 3]
        meta.append([name, outlet, f"2022-{m:02d}-{d:02d}" if i != 6 else "",
                     f"https://example.org/{outlet.lower().replace(' ', '-')}/{i}"])
    with (HERE / "txt" / "metadata.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "outlet", "date", "url"])
        w.writerows(meta)

    # --- kyiv-independent/: .txt with no sidecar; outlet from sources.csv -----------------
    (HERE / "kyiv-independent").mkdir()
    for i, a in enumerate(_outlet_articles(rng, "NBC", 6)):
        (HERE / "kyiv-independent" / f"ki-{i:02d}.txt").write_text(
            a["title"] + "\n\n" + "\n\n".join(a["paras"]) + "\n", encoding="utf-8")
    with (HERE / "sources.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "outlet"])
        w.writerow(["kyiv-independent", "The Kyiv Independent"])


if __name__ == "__main__":
    main()
