package com.loratool.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** {@code lora --version}: the build's version, DJL and PyTorch versions. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream("/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        return new String[] {
            "lora " + p.getProperty("version", "unknown"),
            "DJL 0.35.1, PyTorch 2.7.1, Java " + System.getProperty("java.version")
        };
    }
}
