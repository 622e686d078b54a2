"""The neural rows of the paper's Table 2 (Yang et al. 2016): CNN-word, CNN-char, LSTM,
Conv-GRNN and LSTM-GRNN, built from `conf/model/<network>.yaml` (docs/TABLE2_NETWORKS.md).

Same boundary as the HAN (`han.inference.InferenceModel`): one int32 id tensor in, float32
probabilities out; none has attention, so `explain` raises `NoAttention`.

The package imports nothing heavy: `han.table2.settings` is read before TensorFlow starts;
`han.table2.build` (imported by `han.models`) builds and registers the networks.
"""
