#!/usr/bin/env python3
"""Generates the bundled sample data: memories.jsonl and queries.jsonl.

The memories are what an assistant agent remembered from ten conversations with one user
(Maya, a staff engineer) over two weeks: preferences, projects, meetings, bugs, travel.
Their embeddings come from `embed` below, a deterministic signed feature-hashing embedder
("hash64"), so the data needs no model and texts that share words are close in cosine
similarity. The outputs are committed; run this again only to change the data:

    /usr/bin/python3 data/sample/make_sample.py

The embedder, exactly (so another implementation can reproduce the vectors):
  1. lower-case the text and take the ASCII runs [a-z0-9]+ as words; drop STOPWORDS;
  2. features are the words (unigrams) and each pair of adjacent kept words joined by a
     space (bigrams);
  3. each feature's UTF-8 bytes are hashed with 64-bit FNV-1a; dimension = hash % 64,
     sign = +1 if bit 63 of the hash is 0 else -1; the vector is the sum of the signs;
  4. the vector is L2-normalised (a text without features gets the zero vector) and each
     value rounded to 6 decimals to keep the files small.
"""

import datetime
import json
import pathlib
import re

import numpy as np

EMBEDDING_DIM = 64
ROUND_DECIMALS = 6
HERE = pathlib.Path(__file__).resolve().parent

# Frequent function words carry no topic; without them, hashed vectors of unrelated
# sentences would mostly agree on "the", "to" and "i".
STOPWORDS = frozenset(
    """a an the and or but if of to in on at for from by with about as into over after
    before is are was were be been being am do does did has have had i me my we our you
    your he she it its they them their this that these those there here so than then too
    very can will would should could just not no also up out what when which who how all
    any some let s ll ve re d m user assistant""".split()
)

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK_64 = (1 << 64) - 1


def fnv1a_64(data: bytes) -> int:
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & MASK_64
    return value


def features(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def embed(text: str) -> list[float]:
    vector = np.zeros(EMBEDDING_DIM, dtype=np.float64)
    for feature in features(text):
        value = fnv1a_64(feature.encode("utf-8"))
        vector[value % EMBEDDING_DIM] += -1.0 if value >> 63 else 1.0
    norm = np.linalg.norm(vector)
    if norm > 0:
        vector /= norm
    return [round(float(x), ROUND_DECIMALS) for x in vector]


# (session id, channel, start of the conversation in UTC, [(chunk, tags), ...])
SESSIONS = [
    ("s01-onboarding", "chat", "2024-03-04T09:00:00", [
        ("User: Hi! I'm Maya Chen, staff engineer at Northwind Labs. I'll be using you mostly for work planning.", "profile,intro"),
        ("User: I prefer dark mode in every editor and dashboard; light themes give me headaches.", "preference,ui"),
        ("Assistant: Noted: default to dark themes when suggesting tools or screenshots.", "preference,ui"),
        ("User: Please keep answers short. Bullet points over long paragraphs.", "preference,communication"),
        ("User: My timezone is Pacific (America/Los_Angeles). Don't schedule anything before 9am.", "preference,schedule"),
        ("User: I drink oat milk flat whites. If you ever order coffee for a meeting, that's mine.", "preference,food"),
        ("User: I use Neovim with the Tokyo Night theme and a 2-space indent for Python.", "preference,tools"),
        ("User: My manager is Priya Raman. We have a weekly 1:1 on Tuesdays at 10am.", "people,meeting"),
        ("User: Tom Becker is our SRE lead; he's the person to ask about on-call and deploys.", "people,sre"),
        ("User: Lena Ortiz is the designer on the Beacon mobile app.", "people,beacon"),
        ("User: Omar Haddad owns the ingestion service on the backend team.", "people,ingestion"),
        ("User: The two projects I care about right now are Atlas and Beacon.", "projects,atlas,beacon"),
        ("User: Atlas is our data platform migration from MySQL to Postgres.", "project,atlas,postgres"),
        ("User: Beacon is the new mobile app for field technicians, React Native.", "project,beacon,mobile"),
        ("User: I hate meetings on Friday afternoons. Keep Friday after 1pm free for deep work.", "preference,schedule"),
        ("User: I prefer Slack for quick questions and email for anything that needs a decision record.", "preference,communication"),
        ("User: I'm vegetarian, so keep that in mind for team dinners and travel.", "preference,food"),
        ("User: My laptop is a ThinkPad running Fedora; I don't use macOS.", "preference,tools"),
        ("User: Use metric units and 24-hour time in anything you write for me.", "preference,communication"),
        ("User: Remind me to stretch every two hours when I'm in a long coding session.", "preference,health"),
        ("Assistant: Set a recurring reminder: stretch break every two hours during focus blocks.", "reminder,health"),
        ("User: For code review, I care most about tests and clear naming, less about style nits.", "preference,code-review"),
        ("User: Our team uses GitHub and GitHub Actions for CI.", "tools,ci"),
        ("User: The staging cluster is called stg-west and production is prod-west.", "infra,environments"),
        ("User: I speak English and Mandarin; replies in English are fine.", "profile,language"),
        ("User: If I ask for a summary, one paragraph maximum.", "preference,communication"),
        ("User: My work hours are roughly 9:30 to 6, with a lunch break at 12:30.", "preference,schedule"),
        ("User: I like Grafana dashboards over raw logs when debugging.", "preference,tools"),
        ("User: Call me Maya, not Ms. Chen.", "preference,communication"),
        ("Assistant: Profile saved: Maya, staff engineer, Northwind Labs, projects Atlas and Beacon.", "profile,summary"),
    ]),
    ("s02-atlas-planning", "email", "2024-03-05T16:20:00", [
        ("User: Forwarding the Atlas migration plan from Priya. Target cutover to Postgres is May 15.", "atlas,deadline,postgres"),
        ("User: The Atlas plan has three phases: dual writes, backfill, then read cutover.", "atlas,plan"),
        ("User: Phase one of Atlas, dual writes to MySQL and Postgres, must be live by March 29.", "atlas,deadline"),
        ("User: The backfill of historical orders is about 1.2 billion rows.", "atlas,backfill"),
        ("User: We'll use logical replication with Debezium for the orders table.", "atlas,replication"),
        ("User: Budget for the Atlas migration is approved: two extra Postgres replicas in prod-west.", "atlas,budget"),
        ("User: Priya wants a weekly Atlas status email every Friday morning.", "atlas,reporting"),
        ("Assistant: Reminder set: Atlas status email every Friday at 9:30.", "atlas,reminder"),
        ("User: The risky part of Atlas is the invoices table; it has triggers nobody understands.", "atlas,risk"),
        ("User: Omar will own the Debezium connector setup for Atlas.", "atlas,people,ingestion"),
        ("User: Tom needs the Postgres sizing numbers by March 12 to order hardware.", "atlas,deadline,sre"),
        ("User: Postgres version will be 16, with pgbouncer in transaction mode.", "atlas,postgres"),
        ("User: We decided against Aurora; we want to stay on our own hardware for Atlas.", "atlas,decision"),
        ("User: Atlas rollback plan: keep MySQL as the source of truth until read cutover is verified.", "atlas,plan,risk"),
        ("User: Data validation for Atlas will compare row counts and checksums per day partition.", "atlas,validation"),
        ("User: The analytics team needs read access to the Atlas Postgres replica by April.", "atlas,stakeholders"),
        ("User: Legal asked that PII columns are encrypted at rest in the new Postgres cluster.", "atlas,security"),
        ("User: Let's name the new database cluster pg-atlas-01.", "atlas,infra"),
        ("User: Migration freeze: no schema changes on orders during the Atlas backfill.", "atlas,plan"),
        ("User: Priya asked me to write the Atlas design doc by March 8.", "atlas,deadline,docs"),
        ("Assistant: Drafted an outline for the Atlas design doc: goals, phases, risks, rollback, validation.", "atlas,docs"),
        ("User: Add a section on connection pooling to the Atlas design doc.", "atlas,docs"),
        ("User: The orders service has 14 queries that use MySQL-specific syntax we must rewrite.", "atlas,code"),
        ("User: Use sqlglot to find MySQL-only SQL in the codebase.", "atlas,tools"),
        ("User: Atlas success metric: p99 order lookup latency under 40 ms after cutover.", "atlas,metrics"),
        ("User: Risk: the Debezium connector lagged 20 minutes in the last load test.", "atlas,risk,replication"),
        ("User: We'll do the Atlas read cutover on a Tuesday, never on a Friday.", "atlas,plan,schedule"),
        ("User: Priya approved the Atlas design doc with minor comments.", "atlas,docs,decision"),
        ("User: The finance team must sign off before we switch invoices to Postgres.", "atlas,stakeholders"),
        ("Assistant: Atlas timeline: design doc Mar 8, sizing Mar 12, dual writes Mar 29, cutover May 15.", "atlas,summary,deadline"),
    ]),
    ("s03-bug-triage", "slack", "2024-03-07T11:05:00", [
        ("User: The ingestion service is leaking memory again; pods restart every six hours.", "bug,ingestion,memory-leak"),
        ("User: Heap profile shows the leak in the JSON decoder buffer pool of the ingestion service.", "bug,ingestion,memory-leak"),
        ("User: Omar thinks the leak started with the upgrade to the new Kafka client library.", "bug,ingestion,kafka"),
        ("Assistant: Suggested bisecting the ingestion deploys between March 1 and March 5 to find the leak.", "bug,ingestion"),
        ("User: The flaky CI test is test_order_totals; it fails about one run in ten.", "bug,ci,flaky-test"),
        ("User: test_order_totals is flaky because it depends on the system clock crossing midnight.", "bug,ci,flaky-test"),
        ("User: Fix for the flaky test: freeze time with a fixed clock in test_order_totals.", "bug,ci,fix"),
        ("User: Beacon crashes on Android 12 when the camera permission is denied.", "bug,beacon,android"),
        ("User: Lena says the Beacon crash is reproducible on a Pixel 6 with the latest build.", "bug,beacon,android"),
        ("User: The Beacon crash is a null pointer in the barcode scanner module.", "bug,beacon,android"),
        ("User: Filed BEACON-214 for the Android camera permission crash.", "bug,beacon,ticket"),
        ("User: Dashboard for ingestion latency shows p95 spiking to 2 seconds at 3am daily.", "bug,ingestion,latency"),
        ("User: The 3am latency spike lines up with the nightly compaction job on the Kafka cluster.", "bug,ingestion,kafka"),
        ("User: Tom will move the Kafka compaction window to 5am to test the theory.", "bug,sre,kafka"),
        ("User: Memory leak root cause found: buffers never returned to the pool on decode errors.", "bug,ingestion,memory-leak,root-cause"),
        ("User: Omar's patch for the ingestion memory leak is in review, PR 1842.", "bug,ingestion,fix,code-review"),
        ("User: Review PR 1842 today; it's the leak fix and it blocks the release.", "code-review,ingestion,deadline"),
        ("Assistant: Reminder set: review PR 1842 (ingestion memory leak fix) by end of day.", "reminder,code-review"),
        ("User: PR 1842 looks good but needs a regression test that feeds malformed JSON.", "code-review,ingestion,tests"),
        ("User: The staging deploy of the leak fix went fine; memory is flat after 12 hours.", "bug,ingestion,fix"),
        ("User: Another bug: the orders API returns 500 when the currency code is lowercase.", "bug,orders,api"),
        ("User: The currency bug is a missing upper() call in the validation layer.", "bug,orders,root-cause"),
        ("User: Sentry shows 3,400 events for the currency bug since Monday.", "bug,orders,monitoring"),
        ("User: Beacon login sometimes loops back to the sign-in screen on iOS after token refresh.", "bug,beacon,ios"),
        ("User: The iOS login loop is caused by the refresh token being stored after navigation.", "bug,beacon,ios,root-cause"),
        ("User: Let's add an integration test for token refresh in Beacon.", "beacon,tests"),
        ("User: The flaky test fix is merged; CI has been green for 40 runs.", "ci,fix"),
        ("User: We should add a CI job that runs tests across a midnight boundary with faketime.", "ci,tests,idea"),
        ("User: Bug triage rotation: I'm on triage this week, Omar next week.", "schedule,triage"),
        ("Assistant: Triage summary: ingestion leak fixed, flaky test fixed, Beacon crash BEACON-214 open, currency bug open.", "triage,summary"),
    ]),
    ("s04-lisbon-trip", "chat", "2024-03-09T14:30:00", [
        ("User: I'm speaking at DataConf in Lisbon, April 17 to 19. Help me plan the trip.", "travel,lisbon,conference"),
        ("User: My talk at DataConf is on April 18 at 11:00: 'Migrating a billion rows without downtime'.", "travel,lisbon,talk"),
        ("User: Book flights SFO to Lisbon, leaving April 15, returning April 21.", "travel,lisbon,flights"),
        ("User: I prefer an aisle seat and TAP or United; no red-eyes with two connections.", "preference,travel,flights"),
        ("Assistant: Found TAP TP238 SFO to LIS departing April 15 at 15:50, arriving April 16 at 11:25.", "travel,lisbon,flights"),
        ("User: Book TP238. Seat 23C if available.", "travel,lisbon,flights,decision"),
        ("Assistant: Booked TP238, seat 23C, confirmation code QX7LMP.", "travel,lisbon,flights,booking"),
        ("User: Return flight TP237 on April 21 at 13:10 from Lisbon to San Francisco works.", "travel,lisbon,flights"),
        ("Assistant: Booked return TP237 on April 21, seat 21D aisle, same confirmation QX7LMP.", "travel,lisbon,flights,booking"),
        ("User: Hotel near the conference venue in Parque das Nacoes, under 180 euros a night.", "travel,lisbon,hotel"),
        ("Assistant: Booked Hotel Tivoli Oriente, April 16 to 21, 165 euros a night, breakfast included.", "travel,lisbon,hotel,booking"),
        ("User: I need a vegetarian dinner spot in Alfama for the speakers' dinner on April 17.", "travel,lisbon,food"),
        ("Assistant: Suggested Ao 26 Vegan Food Project and Princesa do Castelo in Alfama.", "travel,lisbon,food"),
        ("User: I want one free day to visit Sintra on April 20.", "travel,lisbon,sightseeing"),
        ("User: Book the train to Sintra from Rossio; I'd rather not rent a car.", "travel,lisbon,transport"),
        ("User: I need to submit my DataConf slides by April 10.", "travel,talk,deadline"),
        ("Assistant: Reminder set: DataConf slides due April 10.", "reminder,talk,deadline"),
        ("User: My passport expires in 2029, so that's fine for Portugal.", "travel,documents"),
        ("User: Company travel policy: economy for flights under 12 hours, book through Navan.", "travel,policy"),
        ("User: Keep all receipts for the Lisbon trip; expense report is due within 30 days.", "travel,expenses"),
        ("User: I'll need a European power adapter and a USB-C charger for the trip.", "travel,packing"),
        ("User: Arrange an airport transfer from Lisbon airport to the hotel; the metro is fine too.", "travel,lisbon,transport"),
        ("Assistant: The red metro line goes from the airport to Oriente in 15 minutes; no transfer needed.", "travel,lisbon,transport"),
        ("User: Practice run of my DataConf talk with Priya on April 12.", "travel,talk,meeting"),
        ("User: Tom is also going to DataConf; coordinate the speakers' dinner with him.", "travel,people,lisbon"),
        ("User: My talk slot is 30 minutes plus 10 for questions.", "travel,talk"),
        ("User: Add a slide about the Debezium lag problem from Atlas to the talk.", "travel,talk,atlas"),
        ("User: Don't schedule any work meetings between April 16 and April 20.", "travel,schedule"),
        ("Assistant: Blocked calendar April 16 to 20: DataConf Lisbon, out of office.", "travel,schedule,calendar"),
        ("Assistant: Trip summary: TP238 Apr 15, Tivoli Oriente Apr 16-21, talk Apr 18 11:00, Sintra Apr 20, TP237 Apr 21.", "travel,lisbon,summary"),
    ]),
    ("s05-meetings", "email", "2024-03-11T08:45:00", [
        ("User: Move my Tuesday 1:1 with Priya to Wednesday at 2pm this week.", "meeting,priya,schedule"),
        ("Assistant: Rescheduled the 1:1 with Priya to Wednesday March 13 at 14:00.", "meeting,priya,calendar"),
        ("User: Topics for the 1:1 with Priya: Atlas timeline, promotion packet, Lisbon talk.", "meeting,priya,agenda"),
        ("User: Quarterly planning meeting is March 20, 10:00 to 12:00, in the Redwood room.", "meeting,planning"),
        ("User: For quarterly planning I need a one-page summary of Atlas and Beacon progress.", "meeting,planning,atlas,beacon"),
        ("User: Set up a recurring Beacon design review with Lena every other Thursday at 11.", "meeting,beacon,lena"),
        ("Assistant: Created biweekly Beacon design review with Lena, Thursdays 11:00, starting March 14.", "meeting,beacon,calendar"),
        ("User: The architecture review board meets March 15; I'm presenting the Atlas design.", "meeting,atlas,review"),
        ("User: Decline the vendor demo from DataDog on Friday afternoon.", "meeting,decline,schedule"),
        ("Assistant: Declined the DataDog demo on Friday March 15 at 15:00, citing deep-work time.", "meeting,decline"),
        ("User: Priya said my promotion packet is due to the committee on April 5.", "career,promotion,deadline"),
        ("User: The promotion packet needs three peer reviews; ask Tom, Omar and Lena.", "career,promotion,people"),
        ("Assistant: Drafted peer review requests to Tom, Omar and Lena for the promotion packet.", "career,promotion"),
        ("User: Skip-level meeting with the VP of Engineering, Daniel Kim, on March 22 at 15:00.", "meeting,skip-level"),
        ("User: Questions for Daniel: headcount for data platform, on-call load, Atlas priority.", "meeting,skip-level,agenda"),
        ("User: All-hands is the first Monday of each month at 9:30.", "meeting,all-hands"),
        ("User: Incident review meetings are Thursdays at 16:00, optional unless I was on call.", "meeting,incident"),
        ("User: Book a 30-minute slot with Omar to pair on the Debezium connector.", "meeting,atlas,omar"),
        ("Assistant: Booked pairing with Omar, Thursday March 14 at 10:00, Debezium connector.", "meeting,atlas,calendar"),
        ("User: Please don't accept any meeting invites that overlap my lunch break.", "preference,schedule"),
        ("User: The Beacon launch go/no-go meeting is on May 2.", "meeting,beacon,deadline"),
        ("User: Interview loop coordination: I'm doing system design interviews on Wednesdays.", "hiring,schedule"),
        ("User: Priya moved the quarterly planning to March 21 because of a board meeting.", "meeting,planning,schedule"),
        ("Assistant: Updated calendar: quarterly planning now March 21, 10:00 to 12:00, Redwood room.", "meeting,planning,calendar"),
        ("User: Write meeting notes for the architecture review and send them to the board list.", "meeting,atlas,docs"),
        ("User: Architecture review approved Atlas with a condition: load test at 2x peak traffic first.", "meeting,atlas,decision"),
        ("User: Schedule the Atlas load test with Tom for the week of March 25.", "atlas,sre,schedule"),
        ("User: I want no more than four hours of meetings per day.", "preference,schedule"),
        ("User: Cancel the 1:1 with Priya on April 16; I'm in Lisbon.", "meeting,priya,travel"),
        ("Assistant: Cancelled the April 16 1:1 with Priya and noted the Lisbon trip in the invite.", "meeting,priya,calendar"),
    ]),
    ("s06-atlas-progress", "slack", "2024-03-18T10:10:00", [
        ("User: Dual writes for Atlas are live in staging since this morning.", "atlas,progress"),
        ("User: Found a mismatch: timestamps in Postgres are UTC but MySQL stored local time.", "atlas,bug,timezone"),
        ("User: Fix for the timestamp mismatch: convert at write time and backfill with AT TIME ZONE.", "atlas,fix,timezone"),
        ("User: Debezium lag is down to 30 seconds after increasing max.batch.size.", "atlas,replication,performance"),
        ("User: Code review for the Atlas dual-write library: PR 1901, needs two approvals.", "atlas,code-review"),
        ("User: Omar approved PR 1901; waiting on Tom's review of the retry logic.", "atlas,code-review,people"),
        ("User: Load test at 2x peak: Postgres handled 18k writes per second with p99 at 31 ms.", "atlas,load-test,metrics"),
        ("User: The load test found pgbouncer hitting its connection limit at 1,800 clients.", "atlas,load-test,postgres"),
        ("User: Raised pgbouncer max_client_conn to 4000 and default_pool_size to 60.", "atlas,postgres,config"),
        ("User: Second load test passed; the architecture review condition is met.", "atlas,load-test,decision"),
        ("User: Dual writes went live in production on March 27, two days early.", "atlas,milestone"),
        ("User: Backfill started March 28; estimated 9 days at current throughput.", "atlas,backfill"),
        ("User: Backfill is at 35 percent; no errors, replica lag stable.", "atlas,backfill,progress"),
        ("User: Checksum validation found 12 mismatched rows in the invoices table.", "atlas,validation,bug"),
        ("User: The 12 invoice mismatches come from the MySQL trigger that rounds tax amounts.", "atlas,validation,root-cause"),
        ("User: We'll replicate the tax rounding in the Postgres write path to match MySQL.", "atlas,fix,decision"),
        ("User: Analytics team has read access to the Postgres replica now.", "atlas,stakeholders"),
        ("User: PII encryption at rest confirmed for pg-atlas-01 by the security team.", "atlas,security"),
        ("User: Weekly Atlas status: dual writes live, backfill 60 percent, 12 invoice mismatches understood.", "atlas,reporting"),
        ("Assistant: Sent the Friday Atlas status email to Priya with the backfill progress.", "atlas,reporting"),
        ("User: Backfill finished April 5, one day ahead of estimate.", "atlas,backfill,milestone"),
        ("User: Rewrote 11 of the 14 MySQL-specific queries in the orders service.", "atlas,code,progress"),
        ("User: The remaining 3 queries use GROUP_CONCAT; replace them with string_agg.", "atlas,code,postgres"),
        ("User: Read cutover rehearsal in staging is scheduled for April 23.", "atlas,plan,schedule"),
        ("User: Finance signed off on moving invoices to Postgres after seeing the validation report.", "atlas,stakeholders,decision"),
        ("User: Atlas p99 order lookup latency in staging is 28 ms, under the 40 ms target.", "atlas,metrics"),
        ("User: Let's keep MySQL in read-only mode for two weeks after cutover, then decommission.", "atlas,plan,decision"),
        ("User: The Atlas runbook for cutover lives in the wiki under Data Platform / Atlas / Cutover.", "atlas,docs,runbook"),
        ("User: Tom wants a dry run of the rollback procedure before May 15.", "atlas,risk,sre"),
        ("Assistant: Atlas progress: dual writes live Mar 27, backfill done Apr 5, rehearsal Apr 23, cutover May 15.", "atlas,summary"),
    ]),
    ("s07-personal", "chat", "2024-03-23T18:40:00", [
        ("User: I'm training for the San Francisco half marathon on July 28.", "personal,running,goal"),
        ("User: My running plan is three runs a week: intervals Tuesday, tempo Thursday, long run Sunday.", "personal,running,schedule"),
        ("User: Current long run is 14 km at about 5:40 per km.", "personal,running,progress"),
        ("User: Goal for the half marathon: under 1 hour 55 minutes.", "personal,running,goal"),
        ("User: Remind me to book a physio appointment; my left knee hurts after long runs.", "personal,health,reminder"),
        ("Assistant: Reminder set: book physio for left knee pain this week.", "reminder,health"),
        ("User: I'm reading 'Designing Data-Intensive Applications' again, chapter on replication.", "personal,books"),
        ("User: Next book on my list is 'The Three-Body Problem' by Liu Cixin.", "personal,books"),
        ("User: I'm learning to make sourdough; my starter is called Doughbi-Wan.", "personal,cooking"),
        ("User: My partner Alex's birthday is June 2; remind me two weeks before.", "personal,birthday,reminder"),
        ("Assistant: Reminder set: May 19, Alex's birthday is June 2.", "reminder,personal"),
        ("User: Alex loves ceramics; a pottery class voucher would be a good gift.", "personal,gift,idea"),
        ("User: I'm trying to sleep by 23:00 on weeknights.", "personal,health,preference"),
        ("User: I have a dentist appointment on April 3 at 8:15.", "personal,health,appointment"),
        ("User: Long run this Sunday was 16 km; knee felt better with new shoes.", "personal,running,progress"),
        ("User: Bought Brooks Ghost 15 running shoes, size 38.", "personal,running,gear"),
        ("User: I volunteer at the food bank on the second Saturday of each month.", "personal,volunteering,schedule"),
        ("User: My sister Lily visits from Vancouver May 24 to 27.", "personal,family,travel"),
        ("User: Plan a day trip to Point Reyes with Lily when she visits.", "personal,family,idea"),
        ("User: I'm allergic to cashews. Important for restaurant suggestions.", "personal,health,food"),
        ("User: Favorite cuisine: Sichuan and Ethiopian, both vegetarian-friendly.", "personal,food,preference"),
        ("User: I want to learn Portuguese basics before Lisbon; suggest an app.", "personal,language,travel"),
        ("Assistant: Suggested Duolingo European Portuguese plus the Practice Portuguese podcast.", "personal,language,travel"),
        ("User: Physio said it's IT band tightness; foam roll daily and reduce mileage for a week.", "personal,health,running"),
        ("User: My interval workout: 6 x 800 m at 4:45 per km with 2 minutes rest.", "personal,running"),
        ("User: I meditate 10 minutes every morning with the Waking Up app.", "personal,health,habit"),
        ("User: Book club meets the last Thursday of the month; next book is 'Piranesi'.", "personal,books,schedule"),
        ("User: I'd like to take a ceramics class with Alex in the summer.", "personal,idea"),
        ("User: Weekly grocery delivery comes Saturdays; add oat milk and tofu to the list.", "personal,groceries"),
        ("Assistant: Personal notes: half marathon July 28, knee rehab, Alex's birthday June 2, cashew allergy.", "personal,summary"),
    ]),
    ("s08-hiring", "email", "2024-03-27T13:15:00", [
        ("User: We're hiring a senior backend engineer for the data platform team.", "hiring,backend"),
        ("User: The role focuses on Postgres, Kafka and Go; Atlas experience is a plus.", "hiring,backend,requirements"),
        ("User: First candidate: Jordan Ellis, 8 years experience, strong Postgres internals.", "hiring,candidate,jordan"),
        ("User: Jordan's system design interview is April 3 at 13:00; I'm the interviewer.", "hiring,interview,jordan,schedule"),
        ("User: For system design, I use the 'design a metrics ingestion pipeline' question.", "hiring,interview,process"),
        ("User: Jordan did well on system design: clear partitioning, good failure handling.", "hiring,feedback,jordan"),
        ("User: Jordan was weaker on capacity estimation; numbers were off by 10x.", "hiring,feedback,jordan"),
        ("User: My recommendation for Jordan: hire, leaning strong.", "hiring,decision,jordan"),
        ("User: Second candidate: Sam Patel, 5 years, mostly Java and Kafka Streams.", "hiring,candidate,sam"),
        ("User: Sam's interview is April 10 at 13:00.", "hiring,interview,sam,schedule"),
        ("User: Sam had great Kafka knowledge but struggled with database consistency questions.", "hiring,feedback,sam"),
        ("User: My recommendation for Sam: no hire for senior, maybe for mid-level.", "hiring,decision,sam"),
        ("User: Third candidate: Aisha Bello, ex-Stripe, built a payments ledger on Postgres.", "hiring,candidate,aisha"),
        ("User: Aisha's interview is April 24, after I'm back from Lisbon.", "hiring,interview,aisha,schedule"),
        ("User: Hiring committee meets April 26 to decide on Jordan and Aisha.", "hiring,meeting,decision"),
        ("User: Please write up my interview feedback within 24 hours of each interview.", "hiring,process,preference"),
        ("Assistant: Drafted structured feedback for Jordan: design 4/5, estimation 2/5, communication 4/5.", "hiring,feedback,jordan"),
        ("User: The recruiter is Nina Alvarez; send scheduling changes to her.", "hiring,people"),
        ("User: Salary band for the senior role is approved at L5.", "hiring,compensation"),
        ("User: Jordan asked about remote work; our policy is hybrid, three days in office.", "hiring,policy,jordan"),
        ("User: Add a take-home alternative for candidates who prefer it, max 3 hours.", "hiring,process,idea"),
        ("User: Aisha's system design was excellent; best answer on idempotency I've heard.", "hiring,feedback,aisha"),
        ("User: My recommendation for Aisha: strong hire.", "hiring,decision,aisha"),
        ("User: The committee made an offer to Aisha; Jordan is the backup.", "hiring,decision,offer"),
        ("User: Aisha accepted! Start date is June 3.", "hiring,offer,aisha,milestone"),
        ("User: Prepare an onboarding plan for Aisha: Atlas runbook, on-call shadowing, Go codebase tour.", "hiring,onboarding,aisha"),
        ("Assistant: Drafted a 30-60-90 onboarding plan for Aisha with Atlas as her first project.", "hiring,onboarding,aisha"),
        ("User: Let Jordan know kindly that we filled the role and keep him in mind for the next opening.", "hiring,jordan,communication"),
        ("User: Order a laptop for Aisha: ThinkPad X1 with 32 GB RAM, Fedora.", "hiring,onboarding,equipment"),
        ("Assistant: Hiring summary: Aisha Bello hired, starts June 3; Jordan backup; Sam not a fit for senior.", "hiring,summary"),
    ]),
    ("s09-incident", "slack", "2024-04-02T03:20:00", [
        ("User: Paged at 3am: prod-west orders API error rate at 40 percent.", "incident,orders,oncall"),
        ("User: The incident started at 03:05 after an automatic Postgres failover on pg-atlas-01.", "incident,postgres,atlas"),
        ("User: Dual writes are failing because the orders service cached the old primary's IP.", "incident,root-cause,atlas"),
        ("User: Mitigation: restarted the orders pods to pick up the new primary; errors dropped.", "incident,mitigation"),
        ("User: Incident resolved at 03:48; 43 minutes of elevated errors.", "incident,resolved"),
        ("User: No data loss: MySQL stayed the source of truth and Debezium replayed the gap.", "incident,atlas,data"),
        ("User: Tom is incident commander for the follow-up; I'll write the postmortem.", "incident,people,postmortem"),
        ("User: Postmortem due April 5, blameless format, with timeline and action items.", "incident,postmortem,deadline"),
        ("Assistant: Reminder set: incident postmortem due April 5.", "reminder,incident"),
        ("User: Action item: use pgbouncer DNS names instead of IPs in the orders service.", "incident,action-item"),
        ("User: Action item: alert when dual-write failures exceed 1 percent for 2 minutes.", "incident,action-item,monitoring"),
        ("User: Action item: run a failover game day on staging before the Atlas cutover.", "incident,action-item,atlas"),
        ("User: The failover was triggered by a disk latency spike on the primary host.", "incident,root-cause,hardware"),
        ("User: Tom found the disk is degraded; ops will replace it Thursday.", "incident,hardware,sre"),
        ("User: Timeline: 03:05 failover, 03:09 page, 03:20 diagnosis, 03:41 restart, 03:48 resolved.", "incident,timeline"),
        ("User: Customer impact: about 2,100 failed order lookups, no failed payments.", "incident,impact"),
        ("User: Support posted a status page update at 03:30.", "incident,communication"),
        ("User: The on-call runbook did not mention cached IPs; update it.", "incident,runbook,action-item"),
        ("User: I'm taking the morning off after the 3am page; push my 10am meeting.", "incident,schedule"),
        ("Assistant: Moved the 10:00 meeting to 14:00 and set status to away until noon.", "incident,calendar"),
        ("User: The postmortem draft is in the wiki; Priya and Tom to review.", "incident,postmortem,docs"),
        ("User: Priya asked for the postmortem to include the cost of the degraded disk detection gap.", "incident,postmortem,feedback"),
        ("User: Postmortem review meeting is Thursday at 16:00 in the incident review slot.", "incident,meeting,postmortem"),
        ("User: DNS fix for the orders service is merged as PR 1955.", "incident,fix,code-review"),
        ("User: New alert on dual-write failures is live in Grafana and routed to PagerDuty.", "incident,monitoring,fix"),
        ("User: Game day on staging is April 24, after the cutover rehearsal.", "incident,atlas,schedule"),
        ("User: Disk replaced on the primary host; latency back to normal.", "incident,hardware,resolved"),
        ("User: Lesson learned: any client caching database IPs is a failover risk.", "incident,lesson"),
        ("User: Postmortem published; all action items have owners and due dates.", "incident,postmortem,milestone"),
        ("Assistant: Incident summary: pg-atlas-01 failover Apr 2, 43 min errors, cached IP root cause, DNS fix merged.", "incident,summary"),
    ]),
    ("s10-after-lisbon", "chat", "2024-04-22T09:40:00", [
        ("User: Back from Lisbon! The DataConf talk went really well, about 200 people attended.", "travel,lisbon,talk"),
        ("User: Several people asked for the slides; post them on the company blog.", "travel,talk,follow-up"),
        ("User: Expense report for Lisbon: hotel 825 euros, train to Sintra 4.60, meals 210.", "travel,expenses,lisbon"),
        ("Assistant: Drafted the Lisbon expense report in Navan with 14 receipts attached.", "travel,expenses"),
        ("User: Flight TP237 was delayed two hours; keep that in mind for the claim.", "travel,flights,lisbon"),
        ("User: File an EU261 compensation claim for the delayed TAP flight.", "travel,flights,claim"),
        ("User: Met Ricardo from a Lisbon fintech who runs Postgres at scale; follow up about a tech talk swap.", "travel,networking,follow-up"),
        ("User: Ricardo's email is in the DataConf attendee app; send a thank-you note this week.", "travel,networking,follow-up"),
        ("User: Sintra was amazing; Pena Palace in the fog was the highlight.", "travel,lisbon,personal"),
        ("User: Catch me up on what happened while I was away.", "catch-up"),
        ("Assistant: While away: PR 1955 merged, Beacon beta released to 50 technicians, hiring committee moved to April 26.", "catch-up,summary"),
        ("User: The Atlas cutover rehearsal is tomorrow, April 23; confirm Tom and Omar are available.", "atlas,schedule,people"),
        ("User: Rehearsal went smoothly; the cutover took 11 minutes of read-only time.", "atlas,rehearsal,progress"),
        ("User: Priya approved the Atlas read cutover for May 14, a Tuesday.", "atlas,decision,deadline"),
        ("Assistant: Updated Atlas timeline: read cutover moved from May 15 to Tuesday May 14.", "atlas,deadline,calendar"),
        ("User: Beacon beta feedback: technicians want offline mode for basements without signal.", "beacon,feedback,feature"),
        ("User: Offline mode for Beacon needs a local SQLite cache and a sync queue.", "beacon,design,feature"),
        ("User: Lena is designing the offline indicator and sync conflict screens for Beacon.", "beacon,design,people"),
        ("User: The Beacon Android crash BEACON-214 is fixed in beta 3.", "beacon,bug,fix"),
        ("User: Beacon go/no-go on May 2 will depend on offline mode being at least in beta.", "beacon,decision,deadline"),
        ("User: Promotion packet submitted on April 5; decision expected mid-May.", "career,promotion"),
        ("User: I want to write a blog post about the Atlas migration after cutover.", "atlas,docs,idea"),
        ("User: Schedule a retro for the Atlas project two weeks after cutover.", "atlas,meeting,schedule"),
        ("Assistant: Created the Atlas retro for May 28 at 14:00 with Priya, Tom, Omar and Aisha.", "atlas,meeting,calendar"),
        ("User: My half marathon training is back on track; 18 km long run on Sunday.", "personal,running,progress"),
        ("User: Remind me to renew the DataConf speaker badge photo release form.", "travel,talk,reminder"),
        ("User: The Atlas cutover on May 14 went live at 10:12; error rate flat, p99 at 26 ms.", "atlas,milestone,metrics"),
        ("User: MySQL is now read-only; decommission scheduled for May 28.", "atlas,plan,milestone"),
        ("User: Thank Omar and Tom publicly in the engineering channel for the Atlas cutover.", "atlas,people,communication"),
        ("Assistant: Two-week recap: talk done, expenses filed, Atlas cut over May 14, Beacon offline mode in design.", "summary,atlas,beacon,travel"),
    ]),
]

# Questions the agent might ask its memory, to show search in scripts/example.sh. A 64-d
# hashing embedder only knows shared words (and collides often), so these are phrased with
# the words the memories use, as keyword-style queries to such an embedder would be.
QUERIES = [
    "Does the user prefer dark mode?",
    "Lisbon flight TP238 seat",
    "ingestion memory leak root cause fix",
    "Who should we hire as senior backend engineer?",
    "When is the Atlas read cutover to Postgres?",
    "When is the half marathon?",
]

SECONDS_BETWEEN_TURNS = 97  # a turn every minute and a half, so timestamps strictly increase


def memories():
    for session_id, channel, start, turns in SESSIONS:
        started = datetime.datetime.fromisoformat(start).replace(tzinfo=datetime.timezone.utc)
        for turn, (chunk, tags) in enumerate(turns):
            yield {
                "chunk": chunk,
                "embedding": embed(chunk),
                "source_channel": channel,
                "timestamp": started.timestamp() + turn * SECONDS_BETWEEN_TURNS,
                "session_id": session_id,
                "tags": tags,
            }


def write_jsonl(path: pathlib.Path, records) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def main() -> None:
    written = write_jsonl(HERE / "memories.jsonl", memories())
    asked = write_jsonl(HERE / "queries.jsonl",
                        ({"text": text, "embedding": embed(text)} for text in QUERIES))
    print(f"wrote {written} memories and {asked} queries to {HERE}")


if __name__ == "__main__":
    main()
