package gallery_test

import (
	"fmt"
	"log"

	"github.com/signet-go/signet/gallery"
)

// ExampleMeasureEncoderCalibration measures an encoder's impostor
// calibration on background designs no gallery enrols, and reads a new
// gallery's default threshold from it. Here each of 12 background classes
// embeds as 4 noisy copies of one direction; a real calibration embeds
// thousands of sign designs with the encoder (tools/convert -impostors).
func ExampleMeasureEncoderCalibration() {
	const dim, classes, per = 12, 12, 4
	background := make([][][]float32, classes)
	for c := range background {
		for i := range per {
			v := make([]float32, dim)
			v[c] = 1
			v[(c+1+i)%dim] = 0.3 // each embedding leans towards another class
			v[(c+5*i+3)%dim] += 0.2
			background[c] = append(background[c], v)
		}
	}
	cal, err := gallery.MeasureEncoderCalibration(background, 3, "example")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d classes, %d impostor scores\n", cal.Classes, cal.Scores)
	for _, p := range cal.Points {
		fmt.Printf("FAR %-6g threshold %.4f\n", p.FAR, p.Threshold)
	}

	// A gallery's default threshold at 1% false accepts per class (the
	// JSON of cal.String() is what a model stores under
	// gallery.EncoderCalibrationKey).
	thr, far, err := cal.ThresholdAt(0.01)
	if err != nil {
		log.Fatal(err)
	}
	opts := gallery.DefaultOptions()
	opts.Threshold = thr
	fmt.Printf("default threshold %.4f at FAR %g\n", opts.Threshold, far)
	_, _, err = cal.ThresholdAt(0.001)
	fmt.Println(err)
	// Output:
	// 12 classes, 528 impostor scores
	// FAR 0.1    threshold 0.2092
	// FAR 0.05   threshold 0.2728
	// FAR 0.02   threshold 0.3516
	// FAR 0.01   threshold 0.3516
	// FAR 0.005  threshold 0.3516
	// FAR 0.002  threshold 0.3516
	// default threshold 0.3516 at FAR 0.01
	// gallery: false-accept rate not resolved by the encoder calibration: FAR 0.001 is below 0.002, the smallest 528 impostor scores resolve
}
