"""What the console's image operations take and answer: a product's detail images, the shop's
logo and banner (the shop itself answers as `ConsoleShopOut`)."""

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from siyu.catalog.models import MAX_DETAIL_IMAGES

from .schemas import Id, In, media_url


class ProductImageOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 31,
                    "position": 0,
                    "url": "https://shop.example.com/media/products/k3x9q2m7p4w8t6v1.jpg",
                    "thumb_url": "https://shop.example.com/media/products/k3x9q2m7p4w8t6v1_t.jpg",
                }
            ]
        }
    )

    id: int
    position: int = Field(description="0 is shown first.")
    url: str | None = Field(description="The image, resized on the server to at most 1200 pixels a side.")
    thumb_url: str | None = Field(description="A thumbnail, at most 400 pixels a side.")

    @staticmethod
    def resolve_url(obj, context):
        return media_url(obj.image, context)

    @staticmethod
    def resolve_thumb_url(obj, context):
        return media_url(obj.thumb, context)


class ImageOrderIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"image_ids": [33, 31, 32]}]})

    image_ids: list[Id] = Field(
        max_length=MAX_DETAIL_IMAGES,
        json_schema_extra={"uniqueItems": True},
        description="Every detail image of the product, each once, in the new order.",
    )

    @field_validator("image_ids")
    @classmethod
    def _each_once(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("each image may appear only once")
        return value
