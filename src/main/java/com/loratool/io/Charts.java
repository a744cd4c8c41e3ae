package com.loratool.io;

import java.awt.Color;
import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/** The one way a chart becomes a file: headless, white background, PNG, written atomically ({@link AtomicFiles}). */
public final class Charts {
    private Charts() {}

    public static void writePng(Path file, Chart<?, ?> chart) {
        System.setProperty("java.awt.headless", "true");
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
