// RUN: kvant-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{innermost dimension 100 is not a multiple of the block size 32 of q8_0}}
func.func private @block_not_dividing(!qt.tensor<4x100, #qt.gguf<q8_0>>)

// -----

// expected-error @+1 {{innermost dimension 48 is not a multiple of the block size 32 of grouped i4 (group 32)}}
func.func private @group_not_dividing(!qt.tensor<4x48, #qt.grouped<i4, group = 32, scale = f16>>)

// -----

// expected-error @+1 {{interleave 8 needs a static row count that it divides, got 12}}
func.func private @interleave_not_dividing(!qt.tensor<12x64, #qt.gguf<q4_0, interleave = 8>>)

// -----

// expected-error @+1 {{interleave 8 needs a static row count that it divides, got ?}}
func.func private @interleave_dynamic_rows(!qt.tensor<?x64, #qt.gguf<q4_0, interleave = 8>>)

// -----

// expected-error @+1 {{interleaved rows need a matrix, got rank 3}}
func.func private @interleave_rank3(!qt.tensor<2x8x64, #qt.gguf<q4_0, interleave = 8>>)

// -----

// expected-error @+1 {{interleave must be at least 1, got 0}}
func.func private @interleave_zero(!qt.tensor<8x64, #qt.gguf<q4_0, interleave = 0>>)

// -----

// expected-error @+1 {{innermost dimension must be static}}
func.func private @dynamic_inner(!qt.tensor<4x?, #qt.gguf<q4_0>>)

// -----

// expected-error @+1 {{quantized tensor must have rank >= 1}}
func.func private @rank0(!qt.tensor<, #qt.gguf<q4_0>>)

// -----

// expected-error @+1 {{expected a quantization scheme attribute, got 32 : i64}}
func.func private @not_a_scheme(!qt.tensor<4x32, 32>)

// -----

// expected-error @+1 {{storage width of 3 bits is not supported; expected 1, 2, 4 or 8}}
func.func private @bad_width(!qt.tensor<4x32, #qt.grouped<i3, group = 32, scale = f16>>)

// -----

// expected-error @+1 {{storage type 'f32' is not an integer, !qt.ternary, f8E4M3FN, f8E5M2 or f4E2M1FN}}
func.func private @bad_storage(!qt.tensor<4x32, #qt.grouped<f32, group = 32, scale = f16>>)

// -----

// expected-error @+1 {{group size must be positive, got 0}}
func.func private @zero_group(!qt.tensor<4x32, #qt.grouped<i8, group = 0, scale = f16>>)

// -----

// expected-error @+1 {{storage type 'f8E4M3FN' takes no zero point}}
func.func private @float_zero(!qt.tensor<4x32, #qt.grouped<f8E4M3FN, group = 32, scale = f16, zero = i8>>)

// -----

// expected-error @+1 {{storage type '!qt.ternary' takes no zero point}}
func.func private @ternary_zero(!qt.tensor<4x32, #qt.grouped<!qt.ternary, group = 32, scale = f16, zero = i8>>)

// -----

// expected-error @+1 {{zero point type 'i2' is narrower than the storage type 'i4'}}
func.func private @narrow_zero(!qt.tensor<4x32, #qt.grouped<i4, group = 32, scale = f16, zero = i2>>)

// -----

// expected-error @+1 {{zero point type 'index' must be an integer or float type}}
func.func private @index_zero(!qt.tensor<4x32, #qt.grouped<i4, group = 32, scale = f16, zero = index>>)

// -----

// expected-error @+2 {{expected ::kvant::qt::GGUFFormat to be one of: q4_0, q4_1, q5_0}}
// expected-error @+1 {{failed to parse Qt_GGUFSchemeAttr parameter 'format'}}
func.func private @unknown_format(!qt.tensor<4x32, #qt.gguf<q9_9>>)

// -----

func.func @weight_empty_name() {
  // expected-error @+1 {{'qt.weight' op weight name must not be empty}}
  %0 = qt.weight "" : !qt.tensor<4x32, #qt.gguf<q8_0>>
  return
}

// -----

func.func @weight_negative_offset() {
  // expected-error @+1 {{'qt.weight' op offset must be non-negative, got -8}}
  %0 = qt.weight "w" at -8 : !qt.tensor<4x32, #qt.gguf<q8_0>>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{'qt.weight' op weight shape must be static}}
  %0 = qt.weight "w" : !qt.tensor<?x32, #qt.gguf<q8_0>>
  return
}

// -----

func.func @weight_int_elements() {
  // expected-error @+1 {{'qt.weight' op unquantized weight must have float elements, got 'i32'}}
  %0 = qt.weight "w" : tensor<4xi32>
  return
}

// -----

func.func @weight_dynamic_float() {
  // expected-error @+1 {{'qt.weight' op weight shape must be static}}
  %0 = qt.weight "w" : tensor<?xf32>
  return
}

// -----

func.func @quantize_int_input(%x: tensor<4x32xi32>) {
  // expected-error @+1 {{'qt.quantize' op input must have float elements, got 'i32'}}
  %0 = qt.quantize %x : tensor<4x32xi32> -> !qt.tensor<4x32, #qt.gguf<q8_0>>
  return
}

// -----

func.func @quantize_shape(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'qt.quantize' op input shape 4x64 does not match result shape 4x32}}
  %0 = qt.quantize %x : tensor<4x64xf32> -> !qt.tensor<4x32, #qt.gguf<q8_0>>
  return
}

// -----

func.func @dequantize_int_result(%q: !qt.tensor<4x32, #qt.gguf<q8_0>>) {
  // expected-error @+1 {{'qt.dequantize' op result must have float elements, got 'i8'}}
  %0 = qt.dequantize %q : !qt.tensor<4x32, #qt.gguf<q8_0>> -> tensor<4x32xi8>
  return
}

// -----

func.func @dequantize_shape(%q: !qt.tensor<4x32, #qt.gguf<q8_0>>) {
  // expected-error @+1 {{'qt.dequantize' op input shape 4x32 does not match result shape 2x32}}
  %0 = qt.dequantize %q : !qt.tensor<4x32, #qt.gguf<q8_0>> -> tensor<2x32xf32>
  return
}

// -----

func.func @assemble_gguf(%v: tensor<4x32xi8>, %s: tensor<4x1xf16>) {
  // expected-error @+1 {{'qt.assemble' op needs a #qt.grouped scheme, got #qt.gguf<q8_0>}}
  %0 = qt.assemble values(%v : tensor<4x32xi8>) scales(%s : tensor<4x1xf16>) : !qt.tensor<4x32, #qt.gguf<q8_0>>
  return
}

// -----

func.func @assemble_value_type(%v: tensor<4x32xi8>, %s: tensor<4x1xf16>) {
  // expected-error @+1 {{'qt.assemble' op values have element type 'i8' but the scheme stores 'i4'}}
  %0 = qt.assemble values(%v : tensor<4x32xi8>) scales(%s : tensor<4x1xf16>) : !qt.tensor<4x32, #qt.grouped<i4, group = 32, scale = f16>>
  return
}

// -----

func.func @assemble_value_shape(%v: tensor<4x64xi4>, %s: tensor<4x1xf16>) {
  // expected-error @+1 {{'qt.assemble' op values shape 4x64 does not match result shape 4x32}}
  %0 = qt.assemble values(%v : tensor<4x64xi4>) scales(%s : tensor<4x1xf16>) : !qt.tensor<4x32, #qt.grouped<i4, group = 32, scale = f16>>
  return
}

// -----

func.func @assemble_scale_shape(%v: tensor<4x64xi4>, %s: tensor<4x1xf16>) {
  // expected-error @+1 {{'qt.assemble' op scales shape 4x1 does not match expected per-group shape 4x2}}
  %0 = qt.assemble values(%v : tensor<4x64xi4>) scales(%s : tensor<4x1xf16>) : !qt.tensor<4x64, #qt.grouped<i4, group = 32, scale = f16>>
  return
}

// -----

func.func @assemble_scale_type(%v: tensor<4x64xi4>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{'qt.assemble' op scales have element type 'f32' but the scheme's scale type is 'f16'}}
  %0 = qt.assemble values(%v : tensor<4x64xi4>) scales(%s : tensor<4x2xf32>) : !qt.tensor<4x64, #qt.grouped<i4, group = 32, scale = f16>>
  return
}

// -----

func.func @assemble_missing_zeros(%v: tensor<4x64xi4>, %s: tensor<4x2xf16>) {
  // expected-error @+1 {{'qt.assemble' op asymmetric scheme needs zero points}}
  %0 = qt.assemble values(%v : tensor<4x64xi4>) scales(%s : tensor<4x2xf16>) : !qt.tensor<4x64, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>
  return
}

// -----

func.func @assemble_extra_zeros(%v: tensor<4x64xi4>, %s: tensor<4x2xf16>, %z: tensor<4x2xi8>) {
  // expected-error @+1 {{'qt.assemble' op symmetric scheme takes no zero points}}
  %0 = qt.assemble values(%v : tensor<4x64xi4>) scales(%s : tensor<4x2xf16>) zeros(%z : tensor<4x2xi8>) : !qt.tensor<4x64, #qt.grouped<i4, group = 32, scale = f16>>
  return
}

// -----

func.func @assemble_zero_type(%v: tensor<4x64xi4>, %s: tensor<4x2xf16>, %z: tensor<4x2xi4>) {
  // expected-error @+1 {{'qt.assemble' op zeros have element type 'i4' but the scheme's zero type is 'i8'}}
  %0 = qt.assemble values(%v : tensor<4x64xi4>) scales(%s : tensor<4x2xf16>) zeros(%z : tensor<4x2xi4>) : !qt.tensor<4x64, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>
  return
}

// -----

func.func @assemble_zero_shape(%v: tensor<4x64xi4>, %s: tensor<4x2xf16>, %z: tensor<4x1xi8>) {
  // expected-error @+1 {{'qt.assemble' op zeros shape 4x1 does not match expected per-group shape 4x2}}
  %0 = qt.assemble values(%v : tensor<4x64xi4>) scales(%s : tensor<4x2xf16>) zeros(%z : tensor<4x1xi8>) : !qt.tensor<4x64, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>
  return
}

// -----

func.func @matmul_k_mismatch(%x: tensor<4x32xf32>, %w: !qt.tensor<16x64, #qt.gguf<q8_0>>) {
  // expected-error @+1 {{'qt.matmul' op reduction dimension mismatch: lhs has 32 but weight has 64}}
  %0 = qt.matmul %x, %w : tensor<4x32xf32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<4x16xf32>
  return
}

// -----

func.func @matmul_result_shape(%x: tensor<4x64xf32>, %w: !qt.tensor<16x64, #qt.gguf<q8_0>>) {
  // expected-error @+1 {{'qt.matmul' op result shape 4x64 does not match expected shape 4x16}}
  %0 = qt.matmul %x, %w : tensor<4x64xf32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<4x64xf32>
  return
}

// -----

func.func @matmul_rank3_weight(%x: tensor<4x64xf32>, %w: !qt.tensor<2x16x64, #qt.gguf<q8_0>>) {
  // expected-error @+1 {{'qt.matmul' op weight must be rank 2 (N x K), got rank 3}}
  %0 = qt.matmul %x, %w : tensor<4x64xf32>, !qt.tensor<2x16x64, #qt.gguf<q8_0>> -> tensor<4x16xf32>
  return
}

// -----

func.func @matmul_int_lhs(%x: tensor<4x64xi8>, %w: !qt.tensor<16x64, #qt.gguf<q8_0>>) {
  // expected-error @+1 {{'qt.matmul' op lhs and result must have float elements}}
  %0 = qt.matmul %x, %w : tensor<4x64xi8>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<4x16xf32>
  return
}

// -----

func.func @matmul_rank0_lhs(%x: tensor<f32>, %w: !qt.tensor<16x64, #qt.gguf<q8_0>>) {
  // expected-error @+1 {{'qt.matmul' op lhs must have rank >= 1}}
  %0 = qt.matmul %x, %w : tensor<f32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<16xf32>
  return
}

// -----

func.func @pack_i8(%v: tensor<32xi8>) {
  // expected-error @+1 {{'qt.pack' op packed elements must be i1, i2 or i4, got 'i8'}}
  %0 = qt.pack %v : tensor<32xi8> -> tensor<32xi8>
  return
}

// -----

func.func @pack_into_i16(%v: tensor<32xi4>) {
  // expected-error @+1 {{'qt.pack' op bytes must be i8, got 'i16'}}
  %0 = qt.pack %v : tensor<32xi4> -> tensor<8xi16>
  return
}

// -----

func.func @pack_rank(%v: tensor<4x32xi4>) {
  // expected-error @+1 {{'qt.pack' op packed and unpacked tensors must have the same non-zero rank}}
  %0 = qt.pack %v : tensor<4x32xi4> -> tensor<64xi8>
  return
}

// -----

func.func @pack_odd(%v: tensor<4x3xi4>) {
  // expected-error @+1 {{'qt.pack' op innermost dimension 3 is not a multiple of 2, the 'i4' values one byte holds}}
  %0 = qt.pack %v : tensor<4x3xi4> -> tensor<4x1xi8>
  return
}

// -----

func.func @pack_shape(%v: tensor<4x32xi2>) {
  // expected-error @+1 {{'qt.pack' op byte tensor shape 4x16 does not match expected shape 4x8}}
  %0 = qt.pack %v : tensor<4x32xi2> -> tensor<4x16xi8>
  return
}

// -----

func.func @unpack_shape(%b: tensor<4x16xi8>) {
  // expected-error @+1 {{'qt.unpack' op byte tensor shape 4x16 does not match expected shape 4x8}}
  %0 = qt.unpack %b : tensor<4x16xi8> -> tensor<4x32xi2>
  return
}

// -----

func.func @from_bytes_grouped(%b: tensor<4x32xi8>) {
  // expected-error @+1 {{'qt.from_bytes' op needs a #qt.gguf block format, got #qt.grouped<i8, group = 32, scale = f16>}}
  %0 = qt.from_bytes %b : tensor<4x32xi8> -> !qt.tensor<4x32, #qt.grouped<i8, group = 32, scale = f16>>
  return
}

// -----

func.func @from_bytes_shape(%b: tensor<4x32xi8>) {
  // expected-error @+1 {{'qt.from_bytes' op byte tensor shape 4x32 does not match expected shape 4x34}}
  %0 = qt.from_bytes %b : tensor<4x32xi8> -> !qt.tensor<4x32, #qt.gguf<q8_0>>
  return
}

// -----

func.func @to_bytes_type(%w: !qt.tensor<4x32, #qt.gguf<q4_0>>) {
  // expected-error @+1 {{'qt.to_bytes' op bytes must be i8, got 'i16'}}
  %0 = qt.to_bytes %w : !qt.tensor<4x32, #qt.gguf<q4_0>> -> tensor<4x9xi16>
  return
}

// -----

func.func @dot_i8_lanes(%w: vector<30xi8>, %x: vector<30xi8>) {
  // expected-error @+1 {{'qt.dot_i8' op needs 4 input lanes per result lane, got 30 for 8}}
  %0 = qt.dot_i8 %w, %x : vector<30xi8> -> vector<8xi32>
  return
}

// -----

func.func @lookup_i8_table(%i: vector<32xi8>) {
  // expected-error @+1 {{'qt.lookup_i8' op needs a table of 16 entries, got 3}}
  %0 = qt.lookup_i8 %i [1, 2, 3] : vector<32xi8>
  return
}

// -----

func.func @prefetch_rank(%b: tensor<8x68xi8>, %i: index) {
  // expected-error @+1 {{'qt.prefetch' op needs one index per dimension of the source (2), got 1}}
  qt.prefetch %b[%i] : tensor<8x68xi8>
  return
}

// -----

func.func @dot_i8_high_alone(%w: vector<32xi8>, %x: vector<32xi8>, %h: i32) {
  // expected-error @+1 {{'qt.dot_i8' op has a high-half scale without a scale}}
  %0 = qt.dot_i8 %w, %x high %h : vector<32xi8> -> vector<8xi32>
  return
}

// -----

func.func @dot_i8_odd_halves(%w: vector<4xi8>, %x: vector<4xi8>, %s: i32) {
  // expected-error @+1 {{'qt.dot_i8' op needs an even number of result lanes to scale its halves, got 1}}
  %0 = qt.dot_i8 %w, %x scale %s high %s : vector<4xi8> -> vector<1xi32>
  return
}

// -----

func.func @dot_i8_sum_empty() {
  // expected-error @+1 {{'qt.dot_i8_sum' op needs at least one pair of operands}}
  %0 = "qt.dot_i8_sum"() <{lhs_max = 3 : i64}> : () -> vector<8xi32>
  return
}

// -----

func.func @dot_i8_sum_bound(%q: vector<32xi8>, %x: vector<32xi8>) {
  // expected-error @+1 {{'qt.dot_i8_sum' op attribute 'lhs_max' failed to satisfy constraint}}
  %0 = qt.dot_i8_sum %q x %x {lhs_max = 200} : (vector<32xi8>) x (vector<32xi8>) -> vector<8xi32>
  return
}

// -----

func.func @dot_i8_sum_types(%q: vector<32xi8>, %x: vector<16xi8>) {
  // expected-error @+1 {{'qt.dot_i8_sum' op needs operands of one type, got 'vector<32xi8>' and 'vector<16xi8>'}}
  %0 = qt.dot_i8_sum %q x %x {lhs_max = 3} : (vector<32xi8>) x (vector<16xi8>) -> vector<8xi32>
  return
}
