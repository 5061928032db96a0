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
// gallery's size; the score loop is kernels.DotRows over prototype rows stored
// contiguously, so it gets the SIMD tier of the machine.
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
// Measured accuracy of the three modes on the sign benchmark belongs here
// once tools/bench has produced it (N-way K-shot and open-set AUROC via
// Episodes and OpenSet); until then the guidance above is qualitative.
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
// # Files
//
// Save writes one file (see format.go: magic, version, little-endian,
// CRC-32C, the encoder fingerprint) atomically and keeps the previous N
// versions for Rollback. Open refuses a gallery embedded by another encoder
// with ErrEncoderMismatch; OpenForReembed followed by Reembed moves it to the
// new encoder from the stored crops.
package gallery
