import { toNumber } from '../../onnx/index.ts';
import type { AttributeProto, NodeProto } from '../../onnx/types.ts';

/**
 * Typed reads of NodeProto attributes. Attributes are looked up by name only: protobufjs leaves
 * `type` unset on some exporters' output, and the field that carries the value (i / ints / s / f)
 * is unambiguous for the attributes read here.
 */

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = find(node, name);
  return attribute?.i === undefined || attribute.i === null ? fallback : toNumber(attribute.i);
}

export function intsAttribute(node: NodeProto, name: string): number[] | undefined {
  const attribute = find(node, name);
  if (!attribute?.ints || attribute.ints.length === 0) return undefined;
  return attribute.ints.map((value) => toNumber(value));
}

export function floatAttribute(node: NodeProto, name: string, fallback: number): number {
  const attribute = find(node, name);
  return typeof attribute?.f === 'number' ? attribute.f : fallback;
}

const utf8 = new TextDecoder();

export function stringAttribute(node: NodeProto, name: string, fallback: string): string {
  const attribute = find(node, name);
  return attribute?.s && attribute.s.length > 0 ? utf8.decode(attribute.s) : fallback;
}

export function hasAttribute(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}
