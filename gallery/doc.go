// Package gallery is signet's few-shot recognizer: a team photographs a new
// traffic sign a few times, enrols the crops, and the sign is recognised
// minutes later, without retraining the network.
//
// A Gallery holds classes (stable uint64 ids that are never reused, a label,
// free metadata) and their exemplars (an L2-normalised embedding and, unless
// the caller opts out, the source crop as PNG so the whole gallery can be
// re-embedded when the encoder changes). Matching compares a query embedding
// with every prototype row by cosine, ranks the classes, and answers Unknown
// when the best score is below the class's threshold: an honest Unknown
// matters more in the field than the last point of closed-set accuracy.
//
// # Reads never block
//
// Matching works on an immutable snapshot reached through an atomic pointer;
// enrolment, removal, renaming and calibration build a new snapshot and
// publish it (writers are serialised by a mutex). MatchInto writes into a
// caller-owned Result and allocates nothing once that Result has grown to the
// gallery's size; the score loop is the kernels dot product over prototype
// rows stored contiguously, on kernels.Best() or the tier SetTier gives it
// (an engine's, so engine.Options.ForceTier reaches the scores).
//
// # Which prototype mode
//
//   - MeanPrototype (default): one row per class, the normalised mean of its
//     training exemplars (Snell et al. 2017; Qi et al. 2018). Cheapest to
//     match, least sensitive to one bad crop, and the right choice when a
//     class looks the same from every allowed viewpoint, as most signs do.
//   - MultiPrototype: up to K rows per class from spherical k-means with
//     deterministic seeding. Wins when one label covers visibly different
//     appearances (day/night, a sign and its mirrored variant, heavy
//     occlusion patterns) whose mean would sit between the modes.
//   - KNN: every training exemplar is a row and a class scores the cosine of
//     its nearest exemplar. Most faithful with many varied exemplars, but the
//     most exposed to a single mislabelled or blurred crop, and the slowest
//     to match (rows = exemplars).
//
// Measured on the sign benchmark (the shipped encoder testdata/models/signs.sgn
// on testdata/signs: 220 novel classes of 6 crops, 90 cross-source classes
// of 6, 110 base classes of 4) by TestSignsModes, go test -run Signs -v
// ./gallery/. Novel classes enrol 5 crops, base classes 3 (the 4th is the
// query); every mode sees the same episodes and splits (seed 2026):
//
//	mode       5-way    220-way  open-set  base    420-way  420-way  base
//	           5-shot   5-shot   AUROC     only    base     novel    flips
//	mean       99.80%   95.45%   0.959     98.50%  98.14%   96.16%   0.36%
//	multi K=2  99.78%   95.04%   0.959     98.95%  98.64%   95.77%   0.32%
//	multi K=3  99.72%   95.22%   0.960     99.32%  98.86%   95.89%   0.45%
//	knn        99.76%   95.22%   0.960     99.32%  98.55%   95.82%   0.77%
//
// 5-way: 1000 episodes (95% interval ±0.15 points); 220-way: every novel
// class at once, 50 episodes (±0.3); open-set: half the novel classes
// enrolled, the other half's crops as unknown queries, score = best cosine,
// 50 splits (±0.003); base only: the 110 base classes alone; 420-way: base,
// novel and cross-source classes in one gallery, 20 trials; base flips:
// share of base queries right in the base gallery and wrong once the 310
// never-trained classes are added (the negative flip rate).
//
// Mean prototypes lead on the novel measures (all-way 5-shot by 0.2 to 0.4
// points, novel queries in the large mixed gallery by 0.3 to 0.4) and tie
// on open-set rejection, with one row per class: they are the default.
// Multi-prototype and KNN rows keep up to three of the base classes'
// three crops apart, and so recognise base classes 0.5 to 0.8 points
// better, the cost being novel accuracy and, for KNN, twice the base flips
// (17 against 8 of 2,200) and five rows per novel class: choose multi K=2
// when the classes already there matter more than the new ones. Adding the
// 310 never-trained classes flips 0.3 to 0.8% of base queries; with mean
// prototypes 8 of the 6,200 single-class plans behind that figure exceeded
// the default 0.5% budget (TestSigns): the budget bounds each commit, not
// their sum.
//
// # Which storage
//
// Options.Storage (or SetStorage) picks how the prototype rows a match
// scans are held. Float32, the default, is exact. Int8 keeps each row as
// int8 with one float32 scale (symmetric, max|x|/127, ties to even); a
// match quantises the query the same way once and scores with an integer
// dot product (kernels.Dot8For), so a score is the same on every kernel
// tier, and Plan, Calibrate and the unknown threshold all decide on these
// int8 scores. The error against float32 is 0.0006 in cosine on average
// and 0.003 at most on 128-d embeddings (TestInt8ScoreError); keeping the
// query in float32 would only bring that to 0.0005 and 0.0026, at the
// price of a float sum whose order, and so whose rounding, differs between
// tiers, and of half the lanes per step. On the sign benchmark int8 storage
// changes nothing beyond noise (TestSignsStorage: 5-way 1-shot 99.62%
// both, 220-way 5-shot 95.48% against 95.49%, open-set AUROC 0.9588
// against 0.9589, base flips 0.41% against 0.36%). It pays for large galleries: at 100,000 classes of
// dim 128 the scanned matrix shrinks from 51 MB to 13 MB and a match from
// 2.7 to 0.76 ms; at 10,000 classes (5.1 MB against 1.3 MB) from 87 to
// 62 µs (BenchmarkMatchStorage on AVX-512, best of three). Exemplars and
// the float32 class rows that Plan and Save use are kept either way: with
// one exemplar a class the whole gallery goes from 182 to 144 MB at
// 100,000 classes, so choose Int8 when match latency or the scanned
// matrix, not the whole gallery's memory, is the limit. Switching storage
// keeps thresholds: recalibrate if they sit close to the scores.
//
// # Enrolment with a risk report
//
// Plan computes, before anything changes, what a new class (or new exemplars
// of an existing one) does to the classes already there: base accuracy on
// held-out validation exemplars before and after, the negative flip rate
// (Yan et al. 2021: share of samples right before and wrong after) with every
// flipped sample, the newcomer's nearest classes, its leave-one-out accuracy
// and the threshold calibration would pick. Commit applies the plan and
// refuses when the flip rate exceeds the budget unless forced.
//
// # An honest Unknown before calibration
//
// DefaultOptions' threshold of 0.5 is a guess. A model converted with
// tools/convert -impostors carries an EncoderCalibration in its metadata
// (EncoderCalibrationKey; EngineEncoder.Calibration reads it): the impostor
// scores of thousands of never-enrolled designs against prototypes of a few
// shots, tabulated as thresholds at false-accept rates per class. A new
// gallery takes ThresholdAt(far) as its default (signet enroll does, at
// -default-far 0.001), and while a gallery has too few impostors of its own
// to resolve a rate, that threshold is the floor of its default (signet
// calibrate).
//
// # Mirrored twins
//
// A threshold cannot keep out the mirror image of an enrolled sign (no left
// turn for an enrolled no right turn): it shares ring, colours and strokes
// and scores close to a genuine photo. MatchMirroredInto (MatchImageMirrored
// with an encoder) also embeds the query mirrored left to right and answers
// Unknown, Reason MirrorImage, when the mirror image matches the accepted
// class better than the query by more than a margin. The margin comes with
// the calibration (EncoderCalibration.Mirror, measured by
// MeasureMirror on the same background so that at most 1% of genuine
// queries are turned away: symmetric designs score alike both ways, chiral
// ones much lower mirrored). It costs one more inference per query; signet
// classify runs it whenever the model carries a margin.
//
// # Files
//
// Save writes one file (see format.go: magic, version, little-endian,
// CRC-32C, the encoder fingerprint, flag bit 0 for Int8 storage) atomically and keeps the previous N
// versions for Rollback; it keeps the file's mode and, for a symlinked path,
// replaces the link's target. Several processes may change one gallery file:
// hold LockFile (flock, LockFileEx) around open, change and Save, and no
// change is lost. Save and Rollback take that lock themselves while they
// write and remove what killed saves left behind. Labels and metadata keys
// must be printable UTF-8 (ErrInvalidText); stored crops are decoded under
// a pixel limit (MaxCropPixels). Open refuses a gallery embedded by another
// encoder with ErrEncoderMismatch; OpenForReembed followed by Reembed moves
// it to the new encoder from the stored crops. OpenVerified also requires an Ed25519
// signature by a trusted key over the whole file (sign.go; the record is
// specified in model/FORMAT.md, "Signatures").
//
// Every error for a damaged gallery file wraps ErrCorrupt (the specific
// ErrTruncated, ErrChecksum and ErrVersion say why), and ErrCorrupt wraps
// model.ErrCorrupt, as bundle.ErrCorrupt does: errors.Is(err,
// model.ErrCorrupt) is the one test for "this signet file is unusable".
// Likewise ErrNilImage is engine.ErrNilImage.
package gallery
